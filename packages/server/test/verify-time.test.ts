import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { canonicalReceipt, GENESIS, type SignedReceipt } from '@assent/core';
import { type AssentServer, createServer, verifyExport } from '../src/index.js';
import { keyId } from '../src/signer.js';
import { checkStore, openForCheck } from '../src/store-check.js';
import { type Cosigner, cosignLine } from '../src/tlog/note.js';
import { verifyProofFile } from '../src/tlog/proof-file.js';
import {
  freshPgDatabase,
  newReceipt,
  ORIGIN,
  OTHER,
  PUBLISHED,
  receiptBody,
  SITE_CONFIG,
  SITES,
  tempDir,
} from './helpers.js';

/**
 * Time in the signed receipts. A server restarted with its clock set back (30 days here) signs
 * receipts dated before the ones already in its chain; `verify`, `verify-db` and
 * `verify-receipt` passed them. Each now compares a receipt's `at` with the receipt before it
 * in its chain (within a day: batches and several processes' clocks), its `expiresAt` with its
 * `at` plus its policy's days, and (`verify-receipt`) its `at` with the times its proof file
 * holds: the policy's publication and the witnesses' cosignatures.
 */

const DAY = 86_400_000;
const BIN = fileURLToPath(new URL('../bin/assent-server.js', import.meta.url));
const TOKEN = 'verify-time-admin-token';
const keys = generateKeyPairSync('ed25519');
const KID = keyId(keys.publicKey);
const POLICY_LINE = JSON.stringify({ type: 'policy', sha256: PUBLISHED.sha256, doc: PUBLISHED.doc });

const cli = (args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, ASSENT_LOG_LEVEL: 'silent' }, timeout: 120_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });

/**
 * An export's lines, signed here: the policy, then one receipt per entry of `receipts` on
 * ORIGIN's chain (seq from 1), each a receipt as the server writes it with `over` applied;
 * `purged` ones reduced to what purging keeps.
 */
const exportOf = (
  receipts: readonly (Record<string, unknown> & { purged?: boolean })[],
  key: KeyObject = keys.privateKey,
): string[] => {
  let prev = GENESIS;
  const lines = receipts.map(({ purged, ...over }, i) => {
    const at = (over.at as string | undefined) ?? new Date().toISOString();
    const r = {
      ...newReceipt(KID, { at, expiresAt: new Date(Date.parse(at) + 182 * DAY).toISOString() }),
      seq: i + 1,
      prev,
      ...over,
    } as unknown as SignedReceipt;
    const hash = createHash('sha256').update(canonicalReceipt(r)).digest('hex');
    const sig = sign(null, Buffer.from(hash, 'hex'), key).toString('base64url');
    prev = hash;
    if (!purged) return JSON.stringify({ ...r, hash, sig });
    const { v: _v, id, site, seq, at: kept, kid } = r;
    return JSON.stringify({ v: 1, id, site, seq, at: kept, prev: r.prev, kid, hash, sig, purged: true });
  });
  return [POLICY_LINE, ...lines];
};

const iso = (t: number) => new Date(t).toISOString();

describe('verify: time in an export', () => {
  const T = Date.parse('2026-12-01T05:10:34.000Z');

  it("fails a receipt dated more than a day before the one before it in its site's chain, naming it", async () => {
    // The reviewed chain: seq 16 signed with a clock set back 30 days, between seq 15 and 17.
    const lines = exportOf([
      { at: iso(T - 60_000) },
      { at: iso(T) },
      { at: iso(T + 41_000 - 30 * DAY), id: 'backdatedreceipt' },
      { at: iso(T + 61_000) },
    ]);
    const r = await verifyExport(lines, [keys.publicKey]);
    assert.ok(!r.ok, JSON.stringify(r));
    assert.equal(r.line, 4);
    assert.equal(r.seq, 3);
    assert.equal(r.id, 'backdatedreceipt');
    assert.match(
      r.reason,
      /^its at 2026-11-01T05:11:15\.000Z is 30\.0 days earlier than the at 2026-12-01T05:10:34\.000Z of seq 2, before it in the chain of http:\/\/127\.0\.0\.1:3000 /,
    );
  });

  it('passes a batch sharing one millisecond, receipts a little out of order, up to a day', async () => {
    // Receipts of one batch share `at`; several processes on one PostgreSQL each have their own
    // clock, and a receipt takes its time before it waits for the chain's lock.
    const ok = await verifyExport(
      exportOf([
        { at: iso(T) },
        { at: iso(T) },
        { at: iso(T - 1) },
        { at: iso(T + 5 * 60_000) },
        { at: iso(T + 5 * 60_000 - DAY) },
      ]),
      [keys.publicKey],
    );
    assert.ok(ok.ok, JSON.stringify(ok));
    const past = await verifyExport(exportOf([{ at: iso(T) }, { at: iso(T - DAY - 1) }]), [keys.publicKey]);
    assert.ok(!past.ok && past.seq === 2 && /earlier than the at/.test(past.reason), JSON.stringify(past));
  });

  it("compares with the last receipt whose at is signed: a purged one's at is not", async () => {
    const purgedBetween = exportOf([
      { at: iso(T) },
      { at: iso(T + 60_000), purged: true },
      { at: iso(T - 30 * DAY) },
    ]);
    const r = await verifyExport(purgedBetween, [keys.publicKey]);
    assert.ok(!r.ok && r.seq === 3 && /of seq 1, before it/.test(r.reason), JSON.stringify(r));
  });

  it("fails a receipt whose expiresAt is not its at plus its policy's days", async () => {
    const at = iso(T);
    const lines = exportOf([{ at }, { at, expiresAt: iso(T + 59 * DAY), id: 'shortexpiryxxxxx' }]);
    const r = await verifyExport(lines, [keys.publicKey]);
    assert.ok(!r.ok, JSON.stringify(r));
    assert.equal(r.seq, 2);
    assert.equal(r.id, 'shortexpiryxxxxx');
    assert.equal(
      r.reason,
      `its expiresAt ${iso(T + 59 * DAY)} is not its at ${at} plus the 182 days of the policy it names (${iso(T + 182 * DAY)})`,
    );
    // One millisecond off is off: the server takes both from one reading of its clock.
    const ms = await verifyExport(exportOf([{ at, expiresAt: iso(T + 182 * DAY + 1) }]), [keys.publicKey]);
    assert.ok(!ms.ok && /is not its at/.test(ms.reason), JSON.stringify(ms));
  });

  it('v1 receipts (no published policy, expiry from the banner) are held to the order only', async () => {
    const v1 = (at: number, expiresAt: number) => ({
      v: 1,
      at: iso(at),
      expiresAt: iso(expiresAt),
      policy: { version: 'v3', hash: 'abc' },
    });
    const ok = await verifyExport(exportOf([v1(T, T + 400 * DAY), v1(T + 1000, T + 3 * DAY)]), [
      keys.publicKey,
    ]);
    assert.ok(ok.ok && ok.legacy === 2, JSON.stringify(ok));
    const back = await verifyExport(exportOf([v1(T, T + 400 * DAY), v1(T - 30 * DAY, T)]), [keys.publicKey]);
    assert.ok(!back.ok && back.seq === 2 && /earlier than the at/.test(back.reason), JSON.stringify(back));
  });
});

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`a server restarted with its clock set back 30 days, on ${kind}`, () => {
    const dir = tempDir('assent-time-');
    const pubFile = join(dir, 'signing-key.pub.pem');
    writeFileSync(pubFile, keys.publicKey.export({ type: 'spki', format: 'pem' }));
    let url = '';
    let drop = async () => {};
    let s: AssentServer | undefined;
    const realNow = Date.now;
    /** The back-dated receipt (ORIGIN seq 4), a later one, and a withdrawal. */
    let backdated: { id: string; consentId: string };
    let normal: { id: string; consentId: string };
    let short: { id: string; consentId: string; seq: number };
    let exports: Record<string, string[]>;
    const proofs: Record<string, unknown> = {};

    const start = () =>
      createServer({
        db: url,
        sites: SITES,
        adminToken: TOKEN,
        signingKey: keys.privateKey,
        logger: false,
        retention: false,
        rateLimit: false,
        log: false,
        webhooks: false,
      });
    const post = async (over: Record<string, unknown> = {}) => {
      const body = receiptBody(over);
      const res = await s!.app.inject({
        method: 'POST',
        url: '/v1/receipts',
        payload: body,
        headers: { origin: body.page.origin },
      });
      assert.equal(res.statusCode, 201, res.body);
      return res.json() as { id: string; consentId: string };
    };
    const proofOf = async (r: { id: string; consentId: string }) => {
      const res = await s!.app.inject(`/v1/consents/${r.consentId}/receipts/${r.id}/proof`);
      assert.equal(res.statusCode, 200, res.body);
      return res.json();
    };

    before(async () => {
      if (kind === 'sqlite') url = `sqlite:${join(dir, 'receipts.db')}`;
      else ({ url, drop } = await freshPgDatabase());
      s = await start();
      const first = await post();
      await post();
      await post({ page: { origin: OTHER, path: '/' } });
      await post();
      await s.close();
      // Restarted with the clock 30 days back: one choice, then restarted normally.
      Date.now = () => realNow() - 30 * DAY;
      try {
        s = await start();
        backdated = await post();
        await s.close();
      } finally {
        Date.now = realNow;
      }
      s = await start();
      normal = await post();
      // A withdrawal under a policy of other days published since: it names that policy and
      // expires by its days (routes/consents.ts, policies.ts expiryOf).
      const published = await s.app.inject({
        method: 'POST',
        url: '/v1/admin/policies',
        headers: { authorization: `Bearer ${TOKEN}` },
        payload: { site: ORIGIN, config: { ...SITE_CONFIG, policy: 'v4', days: 30 } },
      });
      assert.equal(published.statusCode, 201, published.body);
      const w = await s.app.inject({ method: 'POST', url: `/v1/consents/${first.consentId}/withdraw` });
      assert.equal(w.statusCode, 201, w.body);
      const withdrawal = w.json() as { id: string; expiresAt: string };
      // A receipt signed with an expiry its policy does not give (OTHER's chain).
      const at = new Date().toISOString();
      const body = receiptBody({ page: { origin: OTHER, path: '/' } });
      const [stored] = await s.store.append(
        [
          newReceipt(
            s.signer.kid,
            { id: randomBytes(12).toString('base64url'), at, expiresAt: iso(Date.parse(at) + 59 * DAY) },
            body,
          ),
        ],
        s.signer,
      );
      short = { id: stored!.id, consentId: body.consentId, seq: stored!.seq };
      exports = {};
      const live = s;
      for (const site of [ORIGIN, OTHER]) {
        const res = await live.app.inject({
          url: `/v1/admin/receipts?site=${encodeURIComponent(site)}`,
          headers: { authorization: `Bearer ${TOKEN}` },
        });
        assert.equal(res.statusCode, 200, res.body);
        exports[site] = res.body.trim().split('\n');
        writeFileSync(join(dir, `${site === ORIGIN ? 'origin' : 'other'}.ndjson`), res.body);
      }
      const lines = exports[ORIGIN]!.map((l) => JSON.parse(l));
      const w2 = lines.find((l) => l.id === withdrawal.id);
      assert.equal(w2.method, 'withdraw');
      assert.equal(Date.parse(w2.expiresAt) - Date.parse(w2.at), 30 * DAY, 'the withdrawal: 30 days');
      assert.equal(lines.find((l) => l.id === backdated.id).seq, 4);
      proofs.backdated = await proofOf(backdated);
      proofs.normal = await proofOf(normal);
      proofs.short = await proofOf(short);
      for (const [name, p] of Object.entries(proofs))
        writeFileSync(join(dir, `${name}.json`), JSON.stringify(p));
      await s.close();
      s = undefined;
    });
    after(async () => {
      Date.now = realNow;
      await s?.close();
      await drop();
    });

    it('verify: BROKEN at the back-dated receipt, naming its seq and ID', async () => {
      const r = await verifyExport(exports[ORIGIN]!, [keys.publicKey]);
      assert.ok(!r.ok, JSON.stringify(r));
      assert.equal(r.seq, 4);
      assert.equal(r.id, backdated.id);
      assert.match(r.reason, /^its at \S+ is 30\.0 days earlier than the at \S+ of seq 3, before it/);
      const cmd = await cli(['verify', join(dir, 'origin.ndjson'), '--public-key', pubFile]);
      assert.equal(cmd.code, 1, cmd.stdout + cmd.stderr);
      assert.match(
        cmd.stdout,
        new RegExp(`^BROKEN at line \\d+ \\(${ORIGIN} seq 4, receipt ${backdated.id}\\): its at `),
      );
      // The receipt with the expiry its policy does not give.
      const o = await verifyExport(exports[OTHER]!, [keys.publicKey]);
      assert.ok(!o.ok && o.seq === short.seq && o.id === short.id, JSON.stringify(o));
      assert.match(o.reason, /^its expiresAt \S+ is not its at \S+ plus the 182 days of the policy it names/);
    });

    it('verify-db: names the back-dated receipt and the wrong expiry, nothing else (the withdrawal passes)', async () => {
      const store = openForCheck(url);
      let r: Awaited<ReturnType<typeof checkStore>>;
      try {
        r = await checkStore(store, { publicKeys: [keys.publicKey], retentionDays: 365 });
      } finally {
        await store.close();
      }
      assert.deepEqual(
        r.problems.map((p) => p.where),
        [`${ORIGIN} seq 4 receipt ${backdated.id}`, `${OTHER} seq ${short.seq} receipt ${short.id}`].sort(
          (a, b) => (a < b ? -1 : 1),
        ),
        JSON.stringify(r.problems),
      );
      assert.match(
        r.problems.find((p) => p.where.includes(backdated.id))!.reason,
        /^its at \S+ is 30\.0 days earlier than the at \S+ of seq 3, before it/,
      );
      const cmd = await cli(['verify-db', '--db', url, '--public-key', pubFile]);
      assert.equal(cmd.code, 1, cmd.stdout + cmd.stderr);
      assert.match(cmd.stdout, new RegExp(`^BROKEN ${ORIGIN} seq 4 receipt ${backdated.id}: its at `, 'm'));
    });

    it("verify-receipt: the back-dated receipt comes before its policy's publication in the log", async () => {
      const r = verifyProofFile(proofs.backdated, [keys.publicKey]);
      assert.ok(!r.ok, JSON.stringify(r));
      assert.equal(r.what, 'time');
      assert.match(
        r.reason,
        /^the receipt's at \S+ is 30\.0 days before the publication of the policy it names \(\S+, leaf 0\)/,
      );
      const cmd = await cli(['verify-receipt', join(dir, 'backdated.json'), '--public-key', pubFile]);
      assert.equal(cmd.code, 1, cmd.stdout + cmd.stderr);
      assert.match(cmd.stdout, /^INVALID \(time\): the receipt's at /);
    });

    it('verify-receipt: an expiry its policy does not give fails; a good file says what of time it checked', async () => {
      const bad = verifyProofFile(proofs.short, [keys.publicKey]);
      assert.ok(
        !bad.ok && bad.what === 'time' && /^its expiresAt \S+ is not its at/.test(bad.reason),
        JSON.stringify(bad),
      );
      const good = verifyProofFile(proofs.normal, [keys.publicKey]);
      assert.ok(good.ok, JSON.stringify(good));
      const cmd = await cli(['verify-receipt', join(dir, 'normal.json'), '--public-key', pubFile]);
      assert.equal(cmd.code, 0, cmd.stdout + cmd.stderr);
      assert.match(
        cmd.stdout,
        /\ntime \(allowing a day between clocks\): its at \S+ is not before the policy's publication \(\S+\); its expiresAt is its at plus the policy's 182 days; no witness was required, so no cosignature's time was compared \(a checkpoint carries none\)\n$/,
      );
    });

    it("verify-receipt --witness: the receipt's at must not be later than the cosignature's time, within a day", async () => {
      const w = generateKeyPairSync('ed25519');
      const witness: Cosigner = { name: 'witness.example/w1', pub: w.publicKey };
      const file = proofs.normal as { checkpoint: string; receipt: { at: string } };
      const at = Math.ceil(Date.parse(file.receipt.at) / 1000);
      const cosignedAt = (time: number) => ({
        ...file,
        checkpoint: `${file.checkpoint}${cosignLine(file.checkpoint, witness.name, w.privateKey, time)}\n`,
      });
      for (const time of [at + 60, at - 3600, at - 86_400])
        assert.ok(verifyProofFile(cosignedAt(time), [keys.publicKey], [witness]).ok, String(time - at));
      const early = verifyProofFile(cosignedAt(at - 86_401), [keys.publicKey], [witness]);
      assert.ok(!early.ok && early.what === 'time', JSON.stringify(early));
      assert.match(
        early.reason,
        /^the receipt's at \S+ is later than witness\.example\/w1's cosignature of the checkpoint \(\S+\) by more than a day/,
      );
      // A cosignature by a witness not required is not verified, so its time counts for nothing.
      assert.ok(verifyProofFile(cosignedAt(at - 30 * 86_400), [keys.publicKey]).ok);
    });
  });
}
