import type { Granted, Policy } from '@assent/core';
import { doc } from './dom.js';

/** Reads one cookie of this page (`name` is a validated cookie name: letters, digits, _ -). */
export const readCookie = (name: string): string | undefined =>
  doc.cookie.match(RegExp(`(?:^|; )${name}=([^;]*)`))?.[1];

/**
 * Writes the consent cookie: first-party, `SameSite=Lax`, `Secure` on https, `Path=/`, and a
 * `Max-Age` (every browser this bundle runs in honours it; `Expires` would only repeat it).
 * `expiresAt` is not in the past (a negative Max-Age deletes too, but libsoup reads -1 as a
 * session cookie): now, to delete it (Max-Age=0).
 */
export const writeCookie = (name: string, value: string, expiresAt: number, domain?: string): void => {
  doc.cookie = `${name}=${value}; Path=/; Max-Age=${Math.round((expiresAt - Date.now()) / 1000)}; SameSite=Lax${
    location.protocol === 'https:' ? '; Secure' : ''
  }${domain ? `; Domain=${domain}` : ''}`;
};

/**
 * Deletes the site's cookies that match `patterns` (a trailing `*` matches a prefix), on
 * this host and on every parent domain: trackers usually set them on the registrable
 * domain (`.example.com`), and a host-only delete would leave those behind.
 */
export const deleteCookies = (patterns: readonly string[]): void => {
  const host = location.hostname.split('.');
  for (const part of doc.cookie.split('; ')) {
    const name = part.slice(0, part.indexOf('='));
    if (!patterns.some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p))) continue;
    const gone = `${name}=; Path=/; Max-Age=0`;
    doc.cookie = gone;
    for (let i = 0; i < host.length - 1; i++) doc.cookie = `${gone}; Domain=.${host.slice(i).join('.')}`;
  }
};

/**
 * Deletes the declared cookies of what `p` has and `g` does not grant: after a choice, and at
 * start-up, whatever the stored choice: one changed off the page (the server's Set-Cookie after
 * a withdrawal on the consent page), one expired or asked again under a new policy — the
 * trackers' identifiers must not outlive the consent they were set under (a later Accept
 * picked the old ones up).
 */
export const clean = (g: Granted, p: Policy): void =>
  deleteCookies(
    p.categories.flatMap((c) =>
      g[c.id] ? [] : [...c.cookies, ...c.services.flatMap((s) => (g[s.key] ? [] : s.cookies))],
    ),
  );
