import assert from 'node:assert/strict';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import fc from 'fast-check';
import pg from 'pg';
import { freshPgDatabase, ORIGIN, OTHER, PUBLISHED, tempDir } from '../helpers.js';
import { anyRequest, type FuzzCase, type FuzzEnv, TOKEN } from './fuzz-requests.js';
import { assertNoClientTraces, assertNothingLost, exportAndVerify, Fleet } from './harness.js';
import { isApiError } from './load.js';
import { PROFILE, SEED } from './profile.js';
import { type RawRequest, type RawResponse, send } from './raw-http.js';

/**
 * Rows per table (the salts table is left out: see below). PostgreSQL is read beside the
 * server, after every request; a SQLite file is the server's alone while it runs (it opens it
 * exclusively: store/sqlite-file.ts), so it is read with the server stopped, before and after.
 */
const counter = async (kind: 'sqlite' | 'postgres', db: string) => {
  const SQL =
    'select (select count(*) from receipts) as r, (select count(*) from publications) as pu, (select count(*) from policies) as po';
  if (kind === 'sqlite') {
    const c = new SQLite(db.slice('sqlite:'.length), { readonly: true });
    const q = c.prepare(SQL);
    return {
      count: async () => q.get() as { r: number; pu: number; po: number },
      close: async () => {
        if (c.open) c.close();
      },
    };
  }
  const c = new pg.Client({ connectionString: db });
  await c.connect();
  return {
    count: async () => {
      const row = (await c.query(SQL)).rows[0] as Record<string, string>;
      return { r: Number(row.r), pu: Number(row.pu), po: Number(row.po) };
    },
    close: () => c.end(),
  };
};

const show = (req: RawRequest) => {
  const body = req.raw ?? Buffer.from(req.body ?? '');
  const text = body.toString('utf8');
  const headers = req.headers
    .filter(([k]) => k !== 'user-agent' && k !== 'x-forwarded-for')
    .map(([k, v]) => `${k}: ${v.slice(0, 60)}`)
    .join('; ');
  return `${req.method} ${req.path.slice(0, 200)}${req.raw ? ' (raw)' : ''} [${headers.slice(0, 400)}] body ${body.length} B: ${JSON.stringify(text.slice(0, 160))}${req.abortAfter !== undefined ? ` (client leaves after ${req.abortAfter} B)` : ''}`;
};

export const fuzz = async (t: { diagnostic(s: string): void }, kind: 'sqlite' | 'postgres') => {
  const seed = SEED + (kind === 'sqlite' ? 11 : 12);
  const dir = tempDir('assent-reliability-fuzz-');
  const pgDb = kind === 'postgres' ? await freshPgDatabase() : undefined;
  const db = pgDb?.url ?? `sqlite:${join(dir, 'receipts.db')}`;
  const fleet = new Fleet();
  // The rate limiter is on (with a limit the fuzzer never reaches) on SQLite, off on PostgreSQL:
  // both configurations see every request shape.
  const serverEnv = { ASSENT_RATE_LIMIT: kind === 'sqlite' ? '1000000' : 'off' };
  // Rows per request where another connection can read them (PostgreSQL); SQLite's totals.
  const live = kind === 'postgres';
  let initial = { r: 0, pu: 0, po: 0 };
  if (!live) {
    // The rows a start leaves (migrations, the configured policies published), read with the
    // server stopped.
    await fleet.stop(await fleet.start(db, dir, serverEnv));
    const c = await counter(kind, db);
    initial = await c.count();
    await c.close();
  }
  const server = await fleet.start(db, dir, serverEnv);
  const port = Number(new URL(server.url).port);
  const rows = live ? await counter(kind, db) : { count: async () => initial, close: async () => {} };
  let publishedN = 0;
  const env: FuzzEnv = {
    own: server.url,
    known: [],
    policy: new Map([ORIGIN, OTHER].map((o) => [o, { version: 'v3', sha256: PUBLISHED.sha256 }])),
  };
  const findings = new Map<string, { n: number; example: string }>();
  const note = (what: string, req: RawRequest, res: RawResponse | string) => {
    const f = findings.get(what) ?? { n: 0, example: '' };
    f.n++;
    f.example ||= `${show(req)}\n      → ${typeof res === 'string' ? res : `${res.status} ${JSON.stringify(res.headers['content-type'] ?? null)} ${JSON.stringify(res.body.toString('utf8').slice(0, 240))}`}`;
    findings.set(what, f);
  };
  const statuses = new Map<string, number>();
  const spent = { make: 0, send: 0, count: 0, start: performance.now() };
  const timing = new Map<string, { n: number; ms: number }>();
  const acked: string[] = [];
  let last = await rows.count();
  let requests = 0;
  let written = 0;
  try {
    await fc.assert(
      fc.asyncProperty(anyRequest, async (make) => {
        let c: FuzzCase;
        const tMake = performance.now();
        try {
          c = make(env);
          spent.make += performance.now() - tMake;
        } catch (e) {
          throw new Error(`the fuzzer could not build its request: ${(e as Error).stack}`);
        }
        let req = c.req;
        if (c.token !== undefined) {
          // The consent page's form token, as the page would hold it (absent for unknown IDs).
          const page = await send(port, { method: 'GET', path: `/consent/${c.token}`, headers: req.headers });
          const token =
            typeof page === 'string' ? null : /name="token" value="([^"]+)"/.exec(page.body.toString())?.[1];
          if (token) req = { ...req, body: String(req.body).replace(TOKEN, token) };
        }
        // Requests are sequential and nothing else writes: the rows after the last request are
        // the rows before this one.
        const before = last;
        const t0 = performance.now();
        const res = await send(port, req, 10_000);
        const ms = performance.now() - t0;
        const tm = timing.get(c.route) ?? { n: 0, ms: 0 };
        tm.n++;
        tm.ms += ms;
        timing.set(c.route, tm);
        requests++;
        const tCount = performance.now();
        const after = live ? await rows.count() : before;
        spent.count += performance.now() - tCount;
        spent.send += tCount - t0;
        last = after;
        const status = typeof res === 'string' ? res : String(res.status);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (typeof res === 'string') {
          if (res !== 'aborted') note(`${c.route}: ${res}`, req, res);
        } else {
          const text = res.body.toString('utf8');
          let body: unknown = null;
          try {
            body = JSON.parse(text);
          } catch {}
          if (res.status >= 500) note(`${c.route} → ${res.status}`, req, res);
          else if (res.status >= 400 && req.method !== 'HEAD') {
            const ct = res.headers['content-type'] ?? '';
            // The consent page answers people in HTML; every other error is the API's JSON.
            const page =
              /^\/consent\/(?!assets\/)[^/?]*(\/withdraw)?\/?(\?|$)/.test(req.path) &&
              ct.startsWith('text/html');
            if (!page && !(ct.startsWith('application/json') && isApiError(body)))
              note(`${c.route} → ${res.status}, not {error, field, message}`, req, res);
          }
          if (res.status === 409 && c.route === 'POST /v1/receipts') {
            const p = (body as { policy?: { version: string; sha256: string } }).policy;
            let site: unknown;
            try {
              site = (JSON.parse(String(req.body)) as { page?: { origin?: unknown } }).page?.origin;
            } catch {}
            if (p && (site === ORIGIN || site === OTHER)) env.policy.set(site, p);
          }
        }
        // What the request may have added: one receipt when it was acknowledged (201 from the
        // API, 303 from the consent page's form), one publication when a policy changed; nothing
        // else, ever. (The salts table is left out: the first request of a day creates that
        // day's IP-hash salt, whoever sends it; it holds no request data.)
        const ok = typeof res !== 'string';
        const receipt =
          ok &&
          ((res.status === 201 && /^POST \/v1\/(receipts|consents\/:id\/withdraw)$/.test(c.route)) ||
            (res.status === 303 && c.route === 'POST /consent/:id/withdraw'));
        const published =
          ok &&
          res.status === 201 &&
          c.route === 'POST /v1/admin/policies' &&
          JSON.parse(res.body.toString()).changed === true;
        if (published) publishedN++;
        if (live && after.r - before.r !== (receipt ? 1 : 0))
          note(`${c.route} → ${status}: ${after.r - before.r} receipt rows added`, req, res);
        if (
          live &&
          (after.pu - before.pu !== (published ? 1 : 0) || after.po - before.po > (published ? 1 : 0))
        )
          note(
            `${c.route} → ${status}: ${after.pu - before.pu} publications, ${after.po - before.po} policies added`,
            req,
            res,
          );
        if (receipt) {
          written++;
          if (res.status === 201) {
            const created = JSON.parse(res.body.toString()) as { id: string; consentId: string };
            acked.push(created.id);
            if (!env.known.includes(created.consentId)) env.known.push(created.consentId);
          }
        }
      }),
      { numRuns: PROFILE.fuzzRuns, seed, endOnFailure: true },
    );
    if (live)
      assert.equal((await rows.count()).r, written, 'the database holds exactly the acknowledged receipts');
    await fleet.stop(server);
    if (!live) {
      const c = await counter(kind, db);
      const end = await c.count();
      await c.close();
      assert.equal(end.r - initial.r, written, 'the database holds exactly the acknowledged receipts');
      assert.equal(end.pu - initial.pu, publishedN, 'a publication for each policy change, nothing else');
      assert.ok(end.po - initial.po <= publishedN, 'no policy stored but by a publication');
    }
    // Anything the server logged as an error (a handler that threw, a TypeError on a client
    // that left) is a finding even when the client got a 4xx.
    for (const line of server.output().split('\n')) {
      let entry: { level?: number; msg?: string; err?: { message?: string } } | null = null;
      try {
        entry = JSON.parse(line);
      } catch {}
      if (entry?.level !== undefined && entry.level >= 50)
        note(
          `logged error: ${entry.msg} ${entry.err?.message ?? ''}`.trim(),
          { method: '-', path: '-', headers: [] },
          line.slice(0, 300),
        );
    }
    const ex = await exportAndVerify(db, [dir], join(dir, 'export.ndjson'));
    const c = assertNothingLost(ex, acked);
    const scanned = await assertNoClientTraces({
      dirs: [dir],
      pgUrls: pgDb ? [pgDb.url] : [],
      logs: fleet.logs,
    });
    t.diagnostic(
      `${kind}: ${requests} fuzzed requests (seed ${seed}), ${written} receipts written (${c.stored} stored, 0 lost, chain verifies), ${env.known.length} consents; statuses ${[
        ...statuses,
      ]
        .sort()
        .map(([s, n]) => `${s}:${n}`)
        .join(' ')}`,
    );
    t.diagnostic(`${kind}: ${ex.verified}; no client IP or UA in ${(scanned / 1e6).toFixed(1)} MB`);
    t.diagnostic(
      `${kind}: slowest routes (total ms / requests): ${[...timing]
        .sort((a, b) => b[1].ms - a[1].ms)
        .slice(0, 6)
        .map(([k, v]) => `${k} ${Math.round(v.ms)}/${v.n}`)
        .join(
          ', ',
        )}; time in building requests ${Math.round(spent.make)} ms, sending ${Math.round(spent.send)} ms, counting rows ${Math.round(spent.count)} ms, in all ${Math.round(performance.now() - spent.start)} ms`,
    );
  } finally {
    await rows.close().catch(() => {});
    if (findings.size)
      t.diagnostic(
        `${kind}: findings\n${[...findings].map(([k, f]) => `  ${k} (×${f.n})\n      ${f.example}`).join('\n')}`,
      );
    await fleet.dispose(dir);
    await pgDb?.drop();
  }
  assert.deepEqual(
    [...findings].map(([k, f]) => `${k} (×${f.n}): ${f.example}`),
    [],
    'no 5xx, every client error a 4xx in the documented shape, nothing stored from a rejected request',
  );
};
