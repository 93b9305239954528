/**
 * FNV-1a, 32 bits, base 36: fingerprints what the visitor was shown, so a changed text or
 * category list makes stored consent stale. A change detector, not a security primitive (the
 * receipt server chains receipts with SHA-256 and signs them with Ed25519): the odds that one
 * change of policy keeps the same fingerprint are 1 in 2^32, and it costs ~50 bytes in the banner.
 */
export const hash32 = (str: string): string => {
  let h = 0x811c9dc5;
  for (let i = 0; i < str.length; i++) h = Math.imul(h ^ str.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
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
