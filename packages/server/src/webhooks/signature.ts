import { createHmac, createPublicKey, type KeyObject, sign, timingSafeEqual, verify } from 'node:crypto';

/** The header every delivery carries: `t=<unix seconds>,kid=<key id>,hmac-sha256=<hex>,ed25519=<base64url>`. */
export const SIGNATURE_HEADER = 'assent-signature';

/** A receiver refuses a delivery signed longer ago than this (a replayed capture). */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/** What both signatures cover: the timestamp, a dot, the raw body — so a body cannot be replayed under a new time. */
const signed = (t: number, body: string) => Buffer.from(`${t}.${body}`);

/**
 * Both signatures of a delivery. Both, because they answer different receivers: HMAC-SHA256
 * with the webhook's own secret is what most webhook libraries check; Ed25519 with the
 * server's receipt-signing key needs no shared secret (the public key is public: the same
 * one that verifies every receipt and export), and whoever reads the database cannot forge it.
 */
export const signatureHeader = (
  body: string,
  t: number,
  secret: string,
  key: { readonly kid: string; readonly key: KeyObject },
): string => {
  const msg = signed(t, body);
  const hmac = createHmac('sha256', secret).update(msg).digest('hex');
  const ed = sign(null, msg, key.key).toString('base64url');
  return `t=${t},kid=${key.kid},hmac-sha256=${hmac},ed25519=${ed}`;
};

export type VerifyResult =
  | { readonly ok: true; readonly t: number }
  | { readonly ok: false; readonly reason: string };

/**
 * What a receiver does (the README shows the same steps as a standalone snippet): parse the
 * header, refuse a stale timestamp, check the HMAC with the secret or the Ed25519 signature
 * with the server's public key, over the raw body exactly as received.
 */
export const verifySignature = (
  header: string | undefined,
  body: string,
  by: { readonly secret: string } | { readonly publicKey: KeyObject | string },
  now = Date.now(),
): VerifyResult => {
  if (!header) return { ok: false, reason: `no ${SIGNATURE_HEADER} header` };
  const parts = Object.fromEntries(
    header.split(',').map((p) => {
      const i = p.indexOf('=');
      return [p.slice(0, i).trim(), p.slice(i + 1).trim()];
    }),
  ) as Record<string, string | undefined>;
  const t = Number(parts.t);
  if (!Number.isInteger(t)) return { ok: false, reason: 'no timestamp' };
  if (Math.abs(now / 1000 - t) > SIGNATURE_TOLERANCE_SECONDS) return { ok: false, reason: 'stale timestamp' };
  const msg = signed(t, body);
  if ('secret' in by) {
    const want = createHmac('sha256', by.secret).update(msg).digest();
    const got = Buffer.from(parts['hmac-sha256'] ?? '', 'hex');
    return got.length === want.length && timingSafeEqual(got, want)
      ? { ok: true, t }
      : { ok: false, reason: 'HMAC does not match' };
  }
  const key = typeof by.publicKey === 'string' ? createPublicKey(by.publicKey) : by.publicKey;
  try {
    return verify(null, msg, key, Buffer.from(parts.ed25519 ?? '', 'base64url'))
      ? { ok: true, t }
      : { ok: false, reason: 'Ed25519 signature does not verify' };
  } catch {
    return { ok: false, reason: 'Ed25519 signature does not verify' };
  }
};
