/**
 * A fast, well-mixed 53-bit string hash: two 32-bit multiplicative lanes (the cyrb53 idea,
 * bryc, public domain), each fed the other's state, with a final avalanche on each.
 * Used to fingerprint what the visitor was shown, so a changed text or category list
 * makes stored consent stale. It is synchronous and tiny, which matters in the banner's
 * start-up path; it is a change detector, not a security primitive (the receipt server
 * signs receipts with Ed25519 and chains them with SHA-256).
 */
export const hash53 = (str: string): string => {
  let a = 0x9e3779b9;
  let b = 0x85ebca6b;
  for (let i = 0; i <= str.length; i++) {
    // One extra round (NaN → 0) mixes the last character through both lanes.
    a = Math.imul(a ^ str.charCodeAt(i), 0x85ebca6b) ^ (b >>> 15);
    b = Math.imul(b ^ a, 0xc2b2ae35) ^ (a >>> 13);
  }
  return ((b & 0x1fffff) * 2 ** 32 + (a >>> 0)).toString(36);
};

/**
 * JSON with object keys sorted, so the same data always gives the same string
 * whatever order the owner wrote it in.
 */
export const stableStringify = (v: unknown): string => {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
};
