import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  type ConsentId,
  decodeConsent,
  encodeConsent,
  type PolicyDoc,
  policyFingerprint,
  type StoredConsent,
} from '@assent/core';
import { PRESETS } from '@assent/core/i18n';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import {
  type AssentServer,
  createServer,
  exportChunks,
  openStore,
  purgeExpired,
  type ServerOptions,
  verifyExport,
} from '../src/index.js';
import { consentId, freshPgDatabase, tempDir } from './helpers.js';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const DAY = 86_400_000;
const TOKEN = 'the-policies-admin-token';

/** Served from the same origin in the same-origin tests (the requests' Host is this one). */
const SITE = 'http://127.0.0.1:3000';
/** Always on another origin than the server's. */
const CROSS = 'https://shop.example';
/** Published through the admin API only. */
const ADMIN_SITE = 'https://admin.example';
/** Published to by the admin API only, for the banner script's caching. */
const ETAG_SITE = 'https://etag.example';
const EVIL = 'https://evil.example';
const API_KEYS = { [SITE]: 'site-key-0123456789', [CROSS]: 'cross-key-0123456789' };
/** What a browser on SITE sends when the server is deployed under SITE's own origin. */
const SAME_ORIGIN = { host: '127.0.0.1:3000', origin: SITE };

const CONFIG = {
  policy: 'v1',
  days: 20,
  // German with its preset's words and nothing of the owner's own.
  texts: { de: {} },
  // Ten minutes between the banner's checks: the consent page says so when cross-origin.
  revalidate: 600,
  categories: [
    {
      id: 'analytics',
      services: [{ id: 'matomo', title: 'Matomo', description: 'Self-hosted audience measurement.' }],
    },
    { id: 'marketing', title: 'Ads', description: 'Advertising chosen for you.' },
  ],
};
const V2 = { ...CONFIG, policy: 'v2' };
/** Receipts of ADMIN_SITE expire after one day: the only ones a purge at +1.5 days drops. */
const ADMIN_CONFIG = { policy: 'a1', days: 1, categories: [{ id: 'analytics' }] };
const ALL = { analytics: true, 'analytics:matomo': true, marketing: true };

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
/** The consent page's date format (en-GB, UTC). */
const when = (iso: string) =>
  `${new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' }).format(new Date(iso))} UTC`;

/** The value of a `set-cookie` header named `name`, with its attributes; undefined when none. */
const setCookie = (res: LightMyRequestResponse, name = 'assent') => {
  const raw = res.headers['set-cookie'];
  const all = raw === undefined ? [] : Array.isArray(raw) ? raw : [String(raw)];
  const line = all.find((c) => c.startsWith(`${name}=`));
  if (!line) return undefined;
  const [pair, ...attrs] = line.split('; ');
  return { value: pair!.slice(name.length + 1), attrs, line };
};

/** One suite, two databases, as store.test.ts: the registry behaves the same on both. */
const policySuite = (kind: 'sqlite' | 'postgres') => {
  describe(`policy registry on ${kind}`, () => {
    let url: string;
    let drop = async () => {};
    let s: AssentServer;
    const SITES = { [SITE]: CONFIG, [CROSS]: CONFIG };

    const start = (sites: Record<string, unknown> = SITES, more: Partial<ServerOptions> = {}) =>
      createServer({
        store: openStore(url),
        sites,
        apiKeys: API_KEYS,
        adminToken: TOKEN,
        logger: false,
        rateLimit: false,
        retention: false,
        signingKey: privateKey,
        // These tests refuse many wrong keys and tokens on purpose, all from one client.
        authFailures: { max: 1000, timeWindow: 60_000 },
        ...more,
      });
    const restart = async (sites?: Record<string, unknown>, more?: Partial<ServerOptions>) => {
      await s.close();
      s = await start(sites, more);
    };

    const inject = (opts: InjectOptions) => s.app.inject(opts);
    const admin = (path: string, token = TOKEN) =>
      inject({ url: path, headers: { authorization: `Bearer ${token}` } });
    const publications = async (site: string) =>
      (await admin(`/v1/admin/policies?site=${encodeURIComponent(site)}`)).json().publications as {
        seq: number;
        sha256: string;
        at: string;
      }[];
    /** The site's current policy, as GET /v1/policy answers it. */
    const current = async (site: string) => {
      const res = await inject({ url: `/v1/policy?site=${encodeURIComponent(site)}` });
      assert.equal(res.statusCode, 200, res.body);
      return res.json() as { site: string; sha256: string; doc: PolicyDoc };
    };
    /** A published policy's canonical JSON. */
    const policyText = async (sha: string) => (await inject({ url: `/v1/policies/${sha}` })).body;
    /** A receipt as a banner rendering the site's current policy sends it. */
    const receipt = async (site: string, over: Record<string, unknown> = {}) => {
      const { sha256, doc } = await current(site);
      return {
        consentId: consentId(),
        policy: { version: doc.config.policy, sha256 },
        mode: 'opt-in',
        choices: { analytics: true, 'analytics:matomo': true, marketing: false },
        method: 'custom',
        source: 'banner',
        signals: { gpc: false },
        page: { origin: site, path: '/articles/x' },
        lang: 'en',
        ...over,
      };
    };
    const post = (body: unknown, headers: Record<string, string> = {}) =>
      inject({
        method: 'POST',
        url: '/v1/receipts',
        headers: { 'content-type': 'application/json', ...headers },
        payload: JSON.stringify(body),
      });
    /** A consent's receipts, oldest first (the API answers newest first). */
    const history = async (id: string) => {
      const res = await inject({ url: `/v1/consents/${id}` });
      return res.statusCode === 404 ? [] : (res.json().receipts as Record<string, unknown>[]).reverse();
    };
    const exportText = async (query = '') => {
      const res = await admin(`/v1/admin/receipts${query}`);
      assert.equal(res.statusCode, 200, res.body);
      return res.body;
    };

    before(async () => {
      if (kind === 'sqlite') url = `sqlite:${join(tempDir(), 'receipts.db')}`;
      else ({ url, drop } = await freshPgDatabase());
      s = await start();
    });
    after(async () => {
      await s.close();
      await drop();
    });

    it("publishes each site's config at start: the current policy is served by its SHA-256, byte for byte", async () => {
      const cur = await current(SITE);
      assert.equal(cur.site, SITE);
      const res = await inject({ url: `/v1/policies/${cur.sha256}` });
      assert.equal(res.statusCode, 200);
      assert.match(res.headers['content-type'] as string, /^application\/json/);
      assert.match(res.headers['cache-control'] as string, /immutable/);
      assert.equal(sha256(res.rawPayload), cur.sha256, 'the body hashes to its address');
      assert.deepEqual(JSON.parse(res.body), cur.doc);
      // Texts resolved with the presets, every language the site offers; no endpoint.
      assert.equal(cur.doc.config.texts.de!.message, PRESETS.de!.message);
      assert.equal(cur.doc.config.days, 20);
      assert.equal('endpoint' in cur.doc.config, false);
      // The same config for both sites: one policy.
      assert.equal((await current(CROSS)).sha256, cur.sha256);
      const pubs = await publications(SITE);
      assert.equal(pubs.length, 1);
      assert.equal(pubs[0]!.sha256, cur.sha256);
      assert.equal((await inject({ url: `/v1/policies/${'0'.repeat(64)}` })).statusCode, 404);
      assert.equal((await inject({ url: '/v1/policies/abc' })).statusCode, 404);
      assert.equal((await inject({ url: `/v1/policy?site=${encodeURIComponent(EVIL)}` })).statusCode, 404);
    });

    it("records the published policy on a receipt and sets its expiry to the policy's days", async () => {
      const body = await receipt(SITE);
      const res = await post(body, { origin: SITE });
      assert.equal(res.statusCode, 201, res.body);
      const [r] = await history(body.consentId);
      assert.ok(r, 'the receipt is stored');
      assert.equal(r.v, 2);
      assert.deepEqual(r.policy, body.policy);
      assert.equal(Date.parse(r.expiresAt as string) - Date.parse(r.at as string), 20 * DAY);
      assert.equal(res.json().expiresAt, r.expiresAt);
    });

    it('publishes nothing new on a restart with the same config; a changed config is a new version, and the old one is still served', async () => {
      const v1 = (await current(SITE)).sha256;
      const [first] = await publications(SITE);
      await restart();
      assert.deepEqual(await publications(SITE), [first], 'the same config: no new publication');
      assert.equal((await current(SITE)).sha256, v1);

      await restart({ [SITE]: V2, [CROSS]: CONFIG });
      const v2 = (await current(SITE)).sha256;
      assert.notEqual(v2, v1);
      const pubs = await publications(SITE);
      assert.deepEqual(
        pubs.map((p) => [p.seq, p.sha256]),
        [
          [2, v2],
          [1, v1],
        ],
        'newest first',
      );
      assert.ok(pubs[0]!.at >= pubs[1]!.at, 'the newer publication is the later one');
      assert.equal((await current(CROSS)).sha256, v1, 'the other site keeps its policy');
      const old = await inject({ url: `/v1/policies/${v1}` });
      assert.equal(old.statusCode, 200);
      assert.equal(sha256(old.rawPayload), v1);
      assert.equal(JSON.parse(old.body).config.policy, 'v1');
    });

    it('serves /v1/assent.js revalidated on every use: 304 while unchanged, the new policy at once after a publish', async () => {
      const publish = (config: unknown) =>
        inject({
          method: 'POST',
          url: '/v1/admin/policies',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          payload: JSON.stringify({ site: ETAG_SITE, config }),
        });
      assert.equal((await publish({ ...ADMIN_CONFIG, policy: 'etag-1' })).statusCode, 201);
      const url = `/v1/assent.js?site=${encodeURIComponent(ETAG_SITE)}`;
      const first = await inject({ url });
      assert.equal(first.statusCode, 200);
      // Never served from a cache unchecked: a page on an older policy asks the visitor again
      // on every page view, and every answer is refused (409), for as long as the copy lasts.
      assert.equal(first.headers['cache-control'], 'no-cache');
      const etag = first.headers.etag as string;
      const cur = await current(ETAG_SITE);
      assert.match(etag, new RegExp(`^"${cur.sha256}\\.[0-9a-f]{16}"$`), 'the policy and the build');
      assert.ok(first.body.startsWith(`self.assentPolicy={"site":"${ETAG_SITE}","sha256":"${cur.sha256}"`));
      const same = await inject({ url, headers: { 'if-none-match': `"other", ${etag}` } });
      assert.equal(same.statusCode, 304);
      assert.equal(same.body, '');
      assert.equal(same.headers.etag, etag);
      // Weakened by a compressing proxy, or `*`: still the same script.
      for (const tag of [`W/${etag}`, '*'])
        assert.equal((await inject({ url, headers: { 'if-none-match': tag } })).statusCode, 304, tag);
      assert.equal((await publish({ ...ADMIN_CONFIG, policy: 'etag-2' })).statusCode, 201);
      const next = await inject({ url, headers: { 'if-none-match': etag } });
      assert.equal(next.statusCode, 200, 'a new policy: the new script, not a 304');
      assert.notEqual(next.headers.etag, etag);
      assert.match(next.body, /"version":"etag-2"|etag-2/);
    });

    it('publishes through the admin API: 201 changed, then unchanged; a bad config is a 400 naming its field; no token is a 401', async () => {
      const publish = (payload: unknown, token = TOKEN) =>
        inject({
          method: 'POST',
          url: '/v1/admin/policies',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          payload: JSON.stringify(payload),
        });
      const none = await publish({ site: ADMIN_SITE, config: ADMIN_CONFIG }, '');
      assert.equal(none.statusCode, 401);
      assert.equal(none.json().error, 'ASSENT_UNAUTHORIZED');
      assert.equal((await publish({ site: ADMIN_SITE, config: ADMIN_CONFIG }, 'wrong')).statusCode, 401);
      const anonymous = await inject({
        method: 'POST',
        url: '/v1/admin/policies',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ site: ADMIN_SITE, config: ADMIN_CONFIG }),
      });
      assert.equal(anonymous.statusCode, 401);
      assert.deepEqual(await publications(ADMIN_SITE), [], 'nothing published without the token');
      assert.equal(
        (await inject({ url: `/v1/policy?site=${encodeURIComponent(ADMIN_SITE)}` })).statusCode,
        404,
      );

      const res = await publish({ site: ADMIN_SITE, config: ADMIN_CONFIG });
      assert.equal(res.statusCode, 201, res.body);
      const out = res.json();
      assert.equal(out.site, ADMIN_SITE);
      assert.equal(out.changed, true);
      assert.equal(out.version, 'a1');
      assert.equal(out.url, `/v1/policies/${out.sha256}`);
      const served = await inject({ url: out.url });
      assert.equal(sha256(served.rawPayload), out.sha256);
      assert.equal((await current(ADMIN_SITE)).sha256, out.sha256);

      const again = await publish({ site: ADMIN_SITE, config: ADMIN_CONFIG });
      assert.equal(again.statusCode, 201);
      assert.equal(again.json().changed, false);
      assert.equal(again.json().sha256, out.sha256);
      assert.equal((await publications(ADMIN_SITE)).length, 1);

      const bad = await publish({ site: ADMIN_SITE, config: { ...ADMIN_CONFIG, days: 0 } });
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json().error, 'ASSENT_BAD_FIELD');
      assert.equal(bad.json().field, 'config.days');
      assert.match(bad.json().message, /\bdays\b/);
      const badSite = await publish({ site: 'not an origin', config: ADMIN_CONFIG });
      assert.equal(badSite.statusCode, 400);
      assert.equal(badSite.json().field, 'site');
      // More categories and services than the consent cookie has bits for: the choice could
      // not be stored, so every visitor would be asked again on every page.
      const wide = (n: number) => ({
        ...ADMIN_CONFIG,
        categories: Array.from({ length: n / 9 }, (_, i) => ({
          id: `c${i}`,
          services: Array.from({ length: 8 }, (_, j) => ({ id: `s${j}` })),
        })),
      });
      const tooWide = await publish({ site: ADMIN_SITE, config: wide(54) });
      assert.equal(tooWide.statusCode, 400);
      assert.equal(tooWide.json().field, 'config.categories');
      assert.match(tooWide.json().message, /has 54 categories and services: at most 53/);
      // A forced language the policy does not publish would render English.
      const german = await publish({ site: ADMIN_SITE, config: { ...ADMIN_CONFIG, lang: 'de-AT' } });
      assert.equal(german.statusCode, 400);
      assert.equal(german.json().field, 'config.lang');
      assert.match(
        german.json().message,
        /"de-AT" is not a language this policy publishes \(en\): add "texts": \{ "de": \{\} \}/,
      );
      // A language longer than a receipt may name: every receipt in it would be refused (400).
      const long = 'en-abcdefgh-abcdefgh-abcdefgh-abcdefgh';
      const longLang = await publish({
        site: ADMIN_SITE,
        config: { ...ADMIN_CONFIG, texts: { [long]: {} } },
      });
      assert.equal(longLang.statusCode, 400, longLang.body);
      assert.match(longLang.json().message, /is a language tag of 38 characters: at most 35/);
      assert.equal((await publications(ADMIN_SITE)).length, 1, 'a refused config publishes nothing');

      // The site is served at once: its pages may post receipts.
      const body = await receipt(ADMIN_SITE, { choices: { analytics: true } });
      assert.equal((await post(body, { origin: ADMIN_SITE })).statusCode, 201);
    });

    it("refuses (409) a receipt naming a policy that is not the site's current one, and stores nothing", async () => {
      const cur = await current(SITE);
      const v1 = (await current(CROSS)).sha256; // SITE's previous policy
      for (const stale of [v1, 'f'.repeat(64)]) {
        const body = await receipt(SITE, { policy: { version: 'v1', sha256: stale } });
        const res = await post(body, { origin: SITE });
        assert.equal(res.statusCode, 409, res.body);
        const b = res.json();
        assert.equal(b.error, 'ASSENT_POLICY_MISMATCH');
        assert.equal(b.field, 'policy.sha256');
        assert.deepEqual(b.policy, { sha256: cur.sha256, version: 'v2' });
        assert.equal((await inject({ url: `/v1/consents/${body.consentId}` })).statusCode, 404);
        assert.ok(!(await exportText()).includes(body.consentId), 'not in the export either');
      }
      // A mode the policy does not offer (opt-in everywhere) is refused as well.
      const optOut = await receipt(SITE, { mode: 'opt-out' });
      const res = await post(optOut, { origin: SITE });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().field, 'mode');
      assert.equal((await inject({ url: `/v1/consents/${optOut.consentId}` })).statusCode, 404);
    });

    it('binds a receipt to its site: the Origin (or Referer) of a page of it, or the API key from a server', async () => {
      const refused = async (
        body: { consentId: string },
        headers: Record<string, string>,
        status: number,
        error: string,
      ) => {
        const res = await post(body, headers);
        assert.equal(res.statusCode, status, `${JSON.stringify(headers)}: ${res.body}`);
        assert.equal(res.json().error, error);
        assert.deepEqual(await history(body.consentId), [], 'nothing stored');
        return res;
      };
      const b = await receipt(SITE);
      await refused(b, {}, 403, 'ASSENT_ORIGIN_REQUIRED');
      await refused(b, { origin: EVIL }, 403, 'ASSENT_ORIGIN_MISMATCH');
      await refused(b, { origin: CROSS }, 403, 'ASSENT_ORIGIN_MISMATCH');
      await refused(b, { origin: 'null' }, 403, 'ASSENT_ORIGIN_MISMATCH');
      await refused(b, { referer: `${EVIL}/page` }, 403, 'ASSENT_ORIGIN_MISMATCH');
      // A browser's receipt with a wrong key is no browser's receipt.
      await refused(b, { origin: SITE, authorization: 'Bearer nope' }, 401, 'ASSENT_UNAUTHORIZED');

      const viaReferer = await post(b, { referer: `${SITE}/articles/x?utm=1` });
      assert.equal(viaReferer.statusCode, 201, viaReferer.body);
      assert.equal((await history(b.consentId)).length, 1);

      const api = await receipt(SITE, { source: 'api' });
      const noKey = await refused(api, {}, 401, 'ASSENT_UNAUTHORIZED');
      assert.equal(noKey.headers['www-authenticate'], 'Bearer');
      await refused(api, { origin: SITE }, 401, 'ASSENT_UNAUTHORIZED');
      await refused(api, { authorization: 'Bearer wrong-key' }, 401, 'ASSENT_UNAUTHORIZED');
      await refused(api, { authorization: `Bearer ${API_KEYS[CROSS]}` }, 401, 'ASSENT_UNAUTHORIZED');
      await refused(api, { authorization: API_KEYS[SITE] }, 401, 'ASSENT_UNAUTHORIZED');
      const ok = await post(api, { authorization: `Bearer ${API_KEYS[SITE]}` });
      assert.equal(ok.statusCode, 201, ok.body);
      const [r] = await history(api.consentId);
      assert.equal(r!.source, 'api');
      assert.equal(r!.site, SITE);
      // A site without a key takes no server receipts at all.
      const adminApi = await receipt(ADMIN_SITE, { source: 'api', choices: {} });
      await refused(adminApi, { authorization: `Bearer ${API_KEYS[SITE]}` }, 401, 'ASSENT_UNAUTHORIZED');
    });

    it('keeps the policy of purged receipts: still served, still exported, and the export verifies', async () => {
      const a1 = (await current(ADMIN_SITE)).sha256;
      const body = await receipt(ADMIN_SITE, { choices: { analytics: false }, method: 'reject-all' });
      assert.equal((await post(body, { origin: ADMIN_SITE })).statusCode, 201);
      // A new version: a1 is named only by receipts that are about to be purged.
      const republished = await inject({
        method: 'POST',
        url: '/v1/admin/policies',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ site: ADMIN_SITE, config: { ...ADMIN_CONFIG, policy: 'a2' } }),
      });
      assert.equal(republished.json().changed, true);
      // A day and a half from now ADMIN_SITE's receipts (1 day) have expired; the others (20) not.
      const purged = await purgeExpired({ store: s.store }, 0, Date.now() + 1.5 * DAY);
      assert.equal(purged, 2);
      assert.deepEqual(await history(body.consentId), []);
      // From the store, not this process's memory.
      await restart({ [SITE]: V2, [CROSS]: CONFIG });
      const old = await inject({ url: `/v1/policies/${a1}` });
      assert.equal(old.statusCode, 200);
      assert.equal(sha256(old.rawPayload), a1);

      const text = await exportText(`?site=${encodeURIComponent(ADMIN_SITE)}`);
      const lines = text.trim().split('\n');
      assert.deepEqual(JSON.parse(lines[0]!), { type: 'policy', sha256: a1, doc: JSON.parse(old.body) });
      assert.equal(lines.length, 3);
      assert.ok(
        lines.slice(1).every((l) => JSON.parse(l).purged === true),
        'both receipts are purged',
      );
      const v = await verifyExport(lines, [publicKey]);
      assert.ok(v.ok, JSON.stringify(v));
      assert.equal(v.policies, 1);
      assert.equal(v.purged, 2);
      assert.equal(v.legacy, 0);
      // The whole export carries exactly the policies its receipts name, purged ones' included.
      const allLines = (await exportText()).trim().split('\n');
      const parsed = allLines.map((l) => JSON.parse(l));
      const carried = parsed.filter((l) => l.type === 'policy').map((l) => l.sha256 as string);
      const named = parsed.filter((l) => l.type !== 'policy' && !l.purged).map((l) => l.policy.sha256);
      assert.deepEqual(new Set(carried), new Set([a1, ...named]));
      const all = await verifyExport(allLines, [publicKey]);
      assert.ok(all.ok && all.policies === carried.length && all.purged === 2, JSON.stringify(all));
      // The CSV names each receipt's policy too.
      const csv = (await exportText(`?format=csv&site=${encodeURIComponent(SITE)}`)).trim().split('\n');
      const col = csv[0]!.split(',').indexOf('policySha256');
      assert.ok(col > 0, csv[0]);
      assert.ok(
        csv.slice(1).every((row) => /^[0-9a-f]{64}$/.test(row.split(',')[col]!)),
        'every row names its policy',
      );
    });

    it('an export streaming while a policy is published carries it before the first receipt naming it, and verifies', async () => {
      const only = { choices: { analytics: true }, method: 'accept-all' };
      assert.equal((await post(await receipt(ADMIN_SITE, only), { origin: ADMIN_SITE })).statusCode, 201);
      const chunks = exportChunks(s.store, { site: ADMIN_SITE }, 'ndjson');
      // The policies the receipts so far name: read, then the site moves on.
      const first = await chunks.next();
      const published = await inject({
        method: 'POST',
        url: '/v1/admin/policies',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ site: ADMIN_SITE, config: { ...ADMIN_CONFIG, policy: 'during-export' } }),
      });
      assert.equal(published.json().changed, true);
      const late = await receipt(ADMIN_SITE, only);
      assert.equal((await post(late, { origin: ADMIN_SITE })).statusCode, 201);
      let text: string = first.value ?? '';
      for await (const c of chunks) text += c;
      const lines = text.trim().split('\n');
      const at = lines.findIndex(
        (l: string) => JSON.parse(l).id !== undefined && JSON.parse(l).consentId === late.consentId,
      );
      assert.ok(at > 0, 'the receipt made during the export is in it');
      assert.equal(JSON.parse(lines[at - 1]!).sha256, late.policy.sha256, 'its policy just before it');
      const v = await verifyExport(lines, [publicKey]);
      assert.ok(v.ok, JSON.stringify(v));
    });

    it("sets the site's cookie when it shares the site's origin, and only then", async () => {
      const cur = await current(SITE);
      const body = await receipt(SITE, { method: 'accept-all', choices: ALL });
      const res = await post(body, SAME_ORIGIN);
      assert.equal(res.statusCode, 201, res.body);
      const c = setCookie(res);
      assert.ok(c, 'a Set-Cookie for the site');
      assert.deepEqual(
        c.attrs.filter((a) => !a.startsWith('Max-Age=')),
        ['Path=/', 'SameSite=Lax'],
      );
      const maxAge = Number(c.attrs.find((a) => a.startsWith('Max-Age='))!.slice(8));
      assert.ok(Math.abs(maxAge - 20 * 86_400) <= 5, `Max-Age ${maxAge}`);
      const d = decodeConsent(c.value) as StoredConsent;
      assert.ok(d, c.value);
      assert.equal(d.id, body.consentId);
      assert.equal(d.method, 'accept-all');
      assert.equal(d.bits, 0b111, 'analytics, analytics:matomo and marketing');
      assert.equal(d.gpc, false);
      assert.equal(d.hash, policyFingerprint(await policyText(cur.sha256), 'opt-in'));
      // The cookie keeps seconds.
      assert.equal(d.expiresAt, Math.floor(Date.parse(res.json().expiresAt as string) / 1000) * 1000);

      const custom = await post(await receipt(SITE), SAME_ORIGIN);
      assert.equal(decodeConsent(setCookie(custom)!.value)!.bits, 0b011, 'analytics and its service only');

      // The server on another origin than the site: no cookie.
      const cross = await post(await receipt(CROSS, { method: 'accept-all', choices: ALL }), {
        origin: CROSS,
      });
      assert.equal(cross.statusCode, 201);
      assert.equal(cross.headers['set-cookie'], undefined);
      const otherHost = await post(await receipt(SITE), { host: 'receipts.example', origin: SITE });
      assert.equal(otherHost.statusCode, 201);
      assert.equal(otherHost.headers['set-cookie'], undefined);

      // A stale policy: nothing stored, and the cookie cleared so the banner asks again.
      const stale = await receipt(SITE, { policy: { version: 'v1', sha256: 'e'.repeat(64) } });
      const refused = await post(stale, SAME_ORIGIN);
      assert.equal(refused.statusCode, 409);
      assert.equal(setCookie(refused)?.line, 'assent=; Path=/; Max-Age=0; SameSite=Lax');
    });

    it("writes the site's cookie in the visitor's clock, as the cookie their banner sent says it runs", async () => {
      const cur = await current(SITE);
      const body = await receipt(SITE, { method: 'accept-all', choices: ALL });
      // What the banner wrote just before posting, by a device clock two days behind: the same
      // choice, its own times. (A server-time cookie made the banner see a choice given two days
      // in its future: asked again on every page, nothing granted.)
      const day = 86_400_000;
      const device = Math.floor((Date.now() - 2 * day) / 1000) * 1000;
      const mine = encodeConsent({
        id: body.consentId as ConsentId,
        hash: policyFingerprint(await policyText(cur.sha256), 'opt-in'),
        bits: 0b111,
        method: 'accept-all',
        gpc: false,
        givenAt: device,
        expiresAt: device + 20 * day,
      });
      const res = await post(body, { ...SAME_ORIGIN, cookie: `other=1; assent=${mine}` });
      assert.equal(res.statusCode, 201, res.body);
      const d = decodeConsent(setCookie(res)!.value)!;
      assert.ok(Math.abs(d.givenAt - device) <= 2000, `givenAt ${new Date(d.givenAt).toISOString()}`);
      assert.equal(d.expiresAt - d.givenAt, 20 * day, 'its days, by that clock');
      const maxAge = Number(
        setCookie(res)!
          .attrs.find((a) => a.startsWith('Max-Age='))!
          .slice(8),
      );
      assert.ok(Math.abs(maxAge - 20 * 86_400) <= 5, 'the browser keeps it its days from now');
      // Withdrawn on the consent page: the cookie of the choice withdrawn tells the clock again.
      const w = await inject({
        method: 'POST',
        url: `/v1/consents/${body.consentId}/withdraw`,
        headers: { ...SAME_ORIGIN, cookie: `assent=${setCookie(res)!.value}` },
      });
      assert.equal(w.statusCode, 201, w.body);
      const wd = decodeConsent(setCookie(w)!.value)!;
      assert.equal(wd.method, 'withdraw');
      assert.ok(Math.abs(wd.givenAt - (Date.now() - 2 * day)) <= 3000, 'by the visitor’s clock');
      // A cookie of another choice (or none) says nothing of the clock: the server's own times.
      const other = await post(await receipt(SITE), { ...SAME_ORIGIN, cookie: `assent=${mine}` });
      assert.ok(Math.abs(decodeConsent(setCookie(other)!.value)!.givenAt - Date.now()) <= 2000);
    });

    it("withdraws with the consent page's form only from that page: its origin and its token", async () => {
      const body = await receipt(SITE, { method: 'accept-all', choices: ALL });
      assert.equal((await post(body, { origin: SITE })).statusCode, 201);
      const other = await receipt(SITE);
      assert.equal((await post(other, { origin: SITE })).statusCode, 201);
      const page = await inject({ url: `/consent/${body.consentId}`, headers: { host: SAME_ORIGIN.host } });
      assert.equal(page.statusCode, 200);
      const tokenOf = (html: string) => /<input type="hidden" name="token" value="([^"]+)">/.exec(html)?.[1];
      const token = tokenOf(page.body)!;
      assert.ok(token, 'the form carries its anti-forgery token');
      const otherToken = tokenOf(
        (await inject({ url: `/consent/${other.consentId}`, headers: { host: SAME_ORIGIN.host } })).body,
      )!;
      assert.notEqual(otherToken, token, 'a token per consent ID');

      const submit = (headers: Record<string, string>, form: string) =>
        inject({
          method: 'POST',
          url: `/consent/${body.consentId}/withdraw`,
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
          payload: form,
        });
      const forged: [string, Record<string, string>, string][] = [
        ['a foreign Origin', { host: SAME_ORIGIN.host, origin: EVIL }, `token=${token}`],
        ['a served site as Origin', { host: SAME_ORIGIN.host, origin: CROSS }, `token=${token}`],
        ['no Origin nor Referer', { host: SAME_ORIGIN.host }, `token=${token}`],
        ['a wrong token', SAME_ORIGIN, `token=${'x'.repeat(token.length)}`],
        ["another consent's token", SAME_ORIGIN, `token=${otherToken}`],
        ['no token', SAME_ORIGIN, ''],
      ];
      for (const [what, headers, form] of forged) {
        const res = await submit(headers, form);
        assert.equal(res.statusCode, 403, what);
        assert.match(res.headers['content-type'] as string, /text\/html/);
        assert.equal(res.headers['set-cookie'], undefined, what);
        assert.equal((await history(body.consentId)).length, 1, `${what}: no new receipt`);
      }

      const res = await submit(SAME_ORIGIN, new URLSearchParams({ token }).toString());
      assert.equal(res.statusCode, 303, res.body);
      assert.equal(res.headers.location, `../${body.consentId}?done=withdrawn`);
      const d = decodeConsent(setCookie(res)!.value)!;
      assert.equal(d.id, body.consentId);
      assert.equal(d.method, 'withdraw');
      assert.equal(d.bits, 0);
      const h = await history(body.consentId);
      assert.deepEqual(
        h.map((r) => [r.method, r.source]),
        [
          ['accept-all', 'banner'],
          ['withdraw', 'consent-page'],
        ],
      );
      assert.deepEqual(h[1]!.choices, { analytics: false, 'analytics:matomo': false, marketing: false });
      assert.equal((await history(other.consentId)).length, 1, 'the other consent is untouched');
    });

    it('GET /v1/consents/:id/cookie answers the cookie of the latest receipt', async () => {
      const body = await receipt(CROSS, { method: 'accept-all', choices: ALL });
      assert.equal((await post(body, { origin: CROSS })).statusCode, 201);
      const cookie = async (id: string) => {
        const res = await inject({ url: `/v1/consents/${id}/cookie`, headers: { origin: CROSS } });
        assert.equal(res.statusCode, 200, res.body);
        assert.equal(res.headers['cache-control'], 'no-store');
        assert.equal(res.headers['access-control-allow-origin'], CROSS);
        return res.json().cookie as string | null;
      };
      const accepted = decodeConsent(await cookie(body.consentId))!;
      assert.ok(accepted, 'a cookie for the consent');
      assert.equal(accepted.id, body.consentId);
      assert.equal(accepted.method, 'accept-all');
      assert.equal(accepted.bits, 0b111);
      const cur = await current(CROSS);
      assert.equal(accepted.hash, policyFingerprint(await policyText(cur.sha256), 'opt-in'));

      // A page of a site the server does not serve may not withdraw; a served site may.
      const evil = await inject({
        method: 'POST',
        url: `/v1/consents/${body.consentId}/withdraw`,
        headers: { origin: EVIL },
      });
      assert.equal(evil.statusCode, 403);
      assert.equal((await history(body.consentId)).length, 1);
      assert.equal(decodeConsent(await cookie(body.consentId))!.method, 'accept-all');
      const w = await inject({
        method: 'POST',
        url: `/v1/consents/${body.consentId}/withdraw`,
        headers: { origin: CROSS, 'content-type': 'application/json' },
        payload: JSON.stringify({ source: 'preferences' }),
      });
      assert.equal(w.statusCode, 201, w.body);
      assert.equal(w.headers['set-cookie'], undefined, 'the server is not on the site’s origin');
      const withdrawn = decodeConsent(await cookie(body.consentId))!;
      assert.equal(withdrawn.id, body.consentId);
      assert.equal(withdrawn.method, 'withdraw');
      assert.equal(withdrawn.bits, 0);
      assert.ok(withdrawn.givenAt >= accepted.givenAt, 'the withdrawal is the later choice');
      assert.equal(await cookie(consentId()), null);
    });

    it('shows on the consent page what the visitor was shown, in their language, and says truthfully when a change applies', async () => {
      const body = await receipt(SITE, { lang: 'de' });
      assert.equal((await post(body, { origin: SITE })).statusCode, 201);
      const [r] = await history(body.consentId);
      const cur = await current(SITE);
      const same = await inject({ url: `/consent/${body.consentId}`, headers: { host: SAME_ORIGIN.host } });
      assert.equal(same.statusCode, 200);
      const html = same.body;
      const de = PRESETS.de!;
      assert.ok(
        html.includes(`<blockquote lang="de" dir="auto"><p>${esc(de.message)}`),
        'the German message',
      );
      assert.ok(html.includes(esc(de.learnMore)), 'the German Learn More');
      assert.ok(html.includes(esc(de.cats.analytics![0])), 'the category title in German');
      assert.ok(html.includes(esc(de.cats.analytics![1])), 'the category description in German');
      assert.ok(html.includes(esc('Self-hosted audience measurement.')), "the service's description");
      assert.ok(html.includes(esc(de.cats.necessary![1])), 'the necessary category as shown');
      assert.ok(!html.includes(esc(PRESETS.fr!.message)), 'no other language');
      assert.ok(html.includes(`href="../v1/policies/${cur.sha256}"`), 'the exact policy, relatively linked');
      assert.ok(
        html.includes('href="assets/consent.css"') && html.includes('src="assets/consent.js"'),
        'relative asset URLs',
      );
      assert.ok(
        html.includes(`The site will ask you again after ${when(r!.expiresAt as string)}.`),
        'the re-ask date is the receipt’s expiry',
      );
      assert.match(html, /It takes effect on http:\/\/127\.0\.0\.1:3000 from your next page view/);
      assert.doesNotMatch(html, /minute/);

      const cross = await inject({
        url: `/consent/${body.consentId}`,
        headers: { host: 'receipts.example' },
      });
      assert.ok(cross.body.includes(esc(de.message)), 'what was shown does not depend on the deployment');
      assert.match(cross.body, /within 10 minutes of your next visit/);
      assert.doesNotMatch(cross.body, /from your next page view/);
    });

    it('never writes a consent ID to the request log', async () => {
      const lines: string[] = [];
      const stream = new Writable({
        write(chunk, _enc, cb) {
          lines.push(String(chunk));
          cb();
        },
      });
      // At trace, where every request is logged (info logs only failures since 2026-12-01).
      await restart({ [SITE]: V2, [CROSS]: CONFIG }, { logger: { level: 'trace', stream } });
      const body = await receipt(SITE);
      const id = body.consentId;
      assert.equal((await post(body, { origin: SITE })).statusCode, 201);
      assert.equal((await inject({ url: `/consent/${id}` })).statusCode, 200);
      assert.equal((await inject({ url: `/consent/${id}?done=withdrawn` })).statusCode, 200);
      assert.equal((await inject({ url: `/v1/consents/${id}` })).statusCode, 200);
      assert.equal((await inject({ url: `/v1/consents/${id}/cookie` })).statusCode, 200);
      assert.equal((await inject({ method: 'POST', url: `/v1/consents/${id}/withdraw` })).statusCode, 201);
      assert.equal((await inject({ method: 'POST', url: `/consent/${id}/withdraw` })).statusCode, 403);
      await restart({ [SITE]: V2, [CROSS]: CONFIG });
      const log = lines.join('');
      assert.match(log, /"url":"\/consent\/:id"/, 'the page request was logged');
      assert.match(log, /"url":"\/v1\/consents\/:id"/, 'the API request was logged');
      assert.match(log, /"url":"\/v1\/consents\/:id\/cookie"/);
      assert.ok(!log.includes(id), 'the consent ID is nowhere in the log');
    });
  });
};

policySuite('sqlite');
policySuite('postgres');
