import { isOrigin } from '@assent/core';

/**
 * A site's origin, one rule for every part of the server: `normalizeOrigin` is how two
 * spellings compare, core's `isOrigin` (re-exported) whether the result is an origin at all,
 * the rule a receipt's `page.origin` is held to. Apart from the route context, so the option
 * checks (`adminOrigin`) use it without importing the routes' shared state.
 */
export { isOrigin };

/**
 * Origins compare as browsers serialise them (`Origin`, `location.origin`): lower-case, no
 * trailing slash, no default port (a site configured as `https://b.example:443` was unknown to
 * its own pages, which say `https://b.example`), internationalised names in punycode. Text
 * that is no origin (a path, credentials) is only trimmed and lower-cased: the caller's check
 * refuses it, naming it.
 */
export const normalizeOrigin = (o: string): string => {
  const t = o.trim().replace(/\/+$/, '');
  if (/^https?:\/\/[^/\s?#@]+$/i.test(t))
    try {
      return new URL(t).origin;
    } catch {}
  return t.toLowerCase();
};
