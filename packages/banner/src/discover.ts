import { CATEGORIES_KEY, type Config, ID_RE } from '@assent/core';
import { HELD } from './blocker.js';
import { doc } from './dom.js';

const KEY = CATEGORIES_KEY;
/** What the console was last told, so it is told once per page and again only when it grows. */
let said: string | undefined;
/** The list as read, and as it is now. */
let kept: string | undefined;
let json = '[]';

/** Stores the list with a choice (choice.ts): nothing is stored before one. */
export const keep = (): void => {
  try {
    if (json !== (kept ?? '[]')) localStorage[KEY] = kept = json;
  } catch {}
};

/**
 * The config plus the categories that held elements name and the config does not declare:
 * the README's drop-in with `<script type="text/plain" data-assent-category="analytics">`
 * and no `categories=(…)`. They are offered like declared ones (the language's known texts:
 * "Analytics", "Marketing" …, else the id), so Accept grants them and Reject refuses them,
 * and the console says which they are and how to declare them.
 *
 * The list is kept in localStorage with each choice (never before one), first seen first and
 * only ever growing: a category's place is its bit in the consent cookie, so it must not
 * depend on which page came first.
 * It is part of the policy's fingerprint, so a category a visitor was never asked about
 * asks again (a new purpose), and a lost list cannot misread a cookie: it asks too.
 *
 * A published policy (`held`) is the server's, never extended by a page: there the console
 * says the elements stay held until the policy declares them.
 */
export const discover = (config: Config, held?: boolean, stored?: boolean): Config => {
  const ids = config.categories.map((c) => c.id);
  let list: string[] = [];
  // Read only with a stored choice (the list is written with one): a first visit never pays
  // for the synchronous storage call (~40 ms at 4× CPU throttling, bench/results/profile.md).
  if (stored)
    try {
      // (`.flat()`: anything but an array throws, and the list is lost: it asks again. A page
      // whose Array.prototype.toJSON (Prototype.js) made JSON.stringify write a string broke
      // the banner on every later page.)
      list = JSON.parse((kept = localStorage[KEY])).flat();
    } catch {}
  for (const el of doc.querySelectorAll<HTMLElement>('[data-assent-category]')) {
    const c = el.dataset.assentCategory!;
    // Only these are held: anything else so marked (an <img>, a script without type="text/plain",
    // an iframe with src) has loaded or runs already, while the banner asks about it.
    if (!globalThis.ASSENT_LITE && !el.matches(`${HELD},iframe`)) console.error('assent: cannot hold', el);
    if (!ID_RE.test(c)) console.error('assent: data-assent-category is not a category id:', el);
    else if (c !== 'necessary' && !list.includes(c)) list.push(c);
  }
  list = list.filter((c) => !ids.includes(c));
  // The JSON of the list, without JSON.stringify (a page may have broken it, see above): ids
  // are [a-z0-9_-], nothing to escape.
  json = `[${list.map((c) => `"${c}"`)}]`;
  const now = `${list}`;
  if (now && now !== said)
    console.warn(
      globalThis.ASSENT_LITE
        ? `assent: held elements name undeclared categories (${(said = now)}); declare them: categories=(${[...ids, ...list]})`
        : `assent: held elements name undeclared categories (${(said = now)}); ${
            held
              ? 'they stay held until the published policy declares them'
              : `declare them: categories=(${[...ids, ...list]})`
          }`,
    );
  return held ? config : { ...config, categories: [...config.categories, ...list.map((id) => ({ id }))] };
};
