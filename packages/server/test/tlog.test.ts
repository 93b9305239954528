import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  canonicalReceipt,
  extend,
  hashCover,
  leafHash,
  type SignedReceipt,
  verifyConsistency,
  verifyInclusion,
} from '@assent/core';
import { CompiledQuery, Migrator } from 'kysely';
import { type AssentServer, createServer, openStore, purgeExpired, verifyExport } from '../src/index.js';
import { createSigner } from '../src/signer.js';
import { entriesQuery, type KyselyStore, nodesQuery } from '../src/store/kysely-store.js';
import { migrationProvider } from '../src/store/migrations.js';
import { receiptRow, writes } from '../src/store/statements.js';
import { commitment } from '../src/tlog/commitment.js';
import { entryData, entryText } from '../src/tlog/entries.js';
import { ConsentLog, MEMORY_BYTES, nodeSha } from '../src/tlog/log.js';
import { logBannerBuilds } from '../src/tlog/mechanism.js';
import { TreeMemory } from '../src/tlog/memory.js';
import {
  type Cosigner,
  cosignerVerifierKey,
  cosignLine,
  logOrigin,
  verifyCheckpoint,
} from '../src/tlog/note.js';
import { verifyProofFile } from '../src/tlog/proof-file.js';
import {
  consentId,
  databaseFaults,
  freshPgDatabase,
  ORIGIN,
  OTHER,
  PUBLISHED,
  receiptBody,
  SITES,
  tempDir,
} from './helpers.js';

const keys = generateKeyPairSync('ed25519');
/** The witness the suite's server accepts cosignatures from. */
const WITNESS = 'witness.example/w1';
const witnessKeys = generateKeyPairSync('ed25519');
const witnessVkey = cosignerVerifierKey(WITNESS, witnessKeys.publicKey);
const b = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
/** A receipt's `at` and `expiresAt` as the server writes them under PUBLISHED (verify checks both). */
const timesOf = (now: number) => ({
  at: new Date(now).toISOString(),
  expiresAt: new Date(now + PUBLISHED.config.days * 86_400_000).toISOString(),
});

const suite = (kind: 'sqlite' | 'postgres') =>
  describe(`consent log on ${kind}`, () => {
    let s: AssentServer;
    let drop = async () => {};
    let dbUrl = '';
    const ids: { id: string; consentId: string }[] = [];
    const get = (url: string) => s.app.inject({ url });
    const post = async (over: Record<string, unknown> = {}) => {
      const body = receiptBody(over);
      const res = await s.app.inject({
        method: 'POST',
        url: '/v1/receipts',
        payload: body,
        headers: { origin: body.page.origin },
      });
      assert.equal(res.statusCode, 201, res.body);
      const r = res.json() as { id: string; consentId: string };
      ids.push(r);
      return r;
    };
    const checkpoint = async (site = ORIGIN) => {
      const res = await get(`/v1/log/checkpoint?site=${encodeURIComponent(site)}`);
      assert.equal(res.statusCode, 200, res.body);
      const c = verifyCheckpoint(res.body, logOrigin(site), keys.publicKey);
      assert.ok(c.ok, !c.ok ? c.reason : '');
      return c.checkpoint;
    };

    before(async () => {
      let db: string;
      if (kind === 'sqlite') db = `sqlite:${join(tempDir(), 'receipts.db')}`;
      else ({ url: db, drop } = await freshPgDatabase());
      dbUrl = db;
      s = await createServer({
        db,
        sites: SITES,
        adminToken: 'tlog-test-admin-token',
        logger: false,
        signingKey: keys.privateKey,
        retention: false,
        rateLimit: false,
        log: false,
        witnesses: [witnessVkey],
      });
      for (let i = 0; i < 37; i++) await post(i % 5 === 4 ? { page: { origin: OTHER, path: '/' } } : {});
    });
    after(async () => {
      await s.close();
      await drop();
    });

    it('signs a checkpoint whose root is the tree of the receipts’ salted commitments and the public entries', async () => {
      const c = await checkpoint();
      const entries = await s.store.logEntries(ORIGIN, 100);
      // The policy published at start and the banner builds, then the 30 receipts.
      assert.equal(c.size, 30 + entries.length);
      const stored = await s.store.logLeaves(ORIGIN, 0, 1000);
      const data = new Map(stored.map((l) => [l.idx, l.data]));
      // Recompute every leaf from what the store keeps: a receipt's from its salt and
      // canonical body (the writer, the SQLite thread or this thread on PostgreSQL, committed
      // as commitment.ts says), a public entry's from its text.
      for (const { id } of ids) {
        const l = await s.store.receiptLeaf(id);
        if (l!.site !== ORIGIN) continue;
        assert.equal(data.get(l!.leaf!), commitment(l!.salt!, l!.body!));
        data.delete(l!.leaf!);
      }
      for (const e of entries) {
        assert.equal(data.get(e.idx), entryData(e.entry));
        data.delete(e.idx);
      }
      assert.equal(data.size, 0);
      const leaves = stored.map((l) => leafHash(Buffer.from(l.data, 'hex'), nodeSha));
      assert.deepEqual(
        Buffer.from(hashCover(extend(0, [], leaves, nodeSha).frontier, nodeSha)),
        Buffer.from(c.root),
      );
      assert.equal((await checkpoint(OTHER)).size, 7 + (await s.store.logEntries(OTHER, 100)).length);
    });

    it('logs each policy publication and banner build as a public entry, provable like a receipt', async () => {
      const list = (await get(`/v1/log/entries?site=${encodeURIComponent(ORIGIN)}`)).json() as {
        entries: { index: number; entry: Record<string, string> }[];
      };
      const types = list.entries.map((e) => e.entry.type).sort();
      assert.deepEqual(types, ['banner', 'banner', 'policy']);
      const policy = list.entries.find((e) => e.entry.type === 'policy')!;
      assert.equal(policy.entry.policy, PUBLISHED.sha256);
      assert.equal(policy.index, 0);
      const banner = list.entries.find((e) => e.entry.file === 'assent.full.min.js')!;
      assert.match(banner.entry.sha256!, /^[0-9a-f]{64}$/);
      // Its leaf is the SHA-256 of its canonical text, included in the signed tree.
      const c = await checkpoint();
      const p = (
        await get(`/v1/log/inclusion?site=${encodeURIComponent(ORIGIN)}&index=${banner.index}`)
      ).json() as {
        proof: string[];
      };
      const leaf = leafHash(Buffer.from(entryData(entryText(banner.entry as never)), 'hex'), nodeSha);
      assert.ok(verifyInclusion(leaf, banner.index, c.size, p.proof.map(b), c.root, nodeSha));
      // The same builds again: nothing new. A new policy: one more entry.
      assert.equal(await logBannerBuilds(s.store, [ORIGIN]), 0);
      const pub = await s.app.inject({
        method: 'POST',
        url: '/v1/admin/policies',
        headers: { authorization: 'Bearer tlog-test-admin-token' },
        payload: { site: ORIGIN, config: { ...SITES[ORIGIN], policy: 'v4' } },
      });
      assert.equal(pub.statusCode, 201, pub.body);
      const after = (await s.store.logEntries(ORIGIN, 10))[0]!;
      assert.equal(JSON.parse(after.entry).policy, pub.json().sha256);
      // Put the site's policy back, so the receipts below name the published one.
      await s.policies.publish(ORIGIN, PUBLISHED);
    });

    it('proves every receipt’s inclusion against the checkpoint', async () => {
      const c = await checkpoint();
      for (const { id } of ids) {
        const res = await get(`/v1/log/inclusion?receipt=${id}`);
        assert.equal(res.statusCode, 200, res.body);
        const p = res.json() as { site: string; index: number; size: number; proof: string[] };
        if (p.site !== ORIGIN) continue;
        assert.equal(p.size, c.size);
        const l = await s.store.receiptLeaf(id);
        const leaf = leafHash(Buffer.from(commitment(l!.salt!, l!.body!), 'hex'), nodeSha);
        assert.ok(verifyInclusion(leaf, p.index, p.size, p.proof.map(b), c.root, nodeSha), `receipt ${id}`);
        assert.ok(!verifyInclusion(leaf, (p.index + 1) % p.size, p.size, p.proof.map(b), c.root, nodeSha));
      }
    });

    it('proves the new checkpoint consistent with the old one after more receipts', async () => {
      const integrate = () =>
        s.app.inject({
          method: 'POST',
          url: `/v1/admin/log/checkpoint?site=${encodeURIComponent(ORIGIN)}`,
          headers: { authorization: 'Bearer tlog-test-admin-token' },
        });
      await integrate();
      const old = await checkpoint();
      for (let i = 0; i < 12; i++) await post();
      // Not yet integrated: the latest checkpoint is still the old one; on demand, a new one.
      assert.equal((await checkpoint()).size, old.size);
      const res = await s.app.inject({
        method: 'POST',
        url: `/v1/admin/log/checkpoint?site=${encodeURIComponent(ORIGIN)}`,
        headers: { authorization: 'Bearer tlog-test-admin-token' },
      });
      assert.equal(res.statusCode, 200, res.body);
      const now = await checkpoint();
      assert.equal(now.size, old.size + 12);
      const p = (
        await get(`/v1/log/consistency?site=${encodeURIComponent(ORIGIN)}&from=${old.size}&to=${now.size}`)
      ).json() as {
        proof: string[];
      };
      assert.ok(verifyConsistency(old.size, now.size, p.proof.map(b), old.root, now.root, nodeSha));
      assert.ok(!verifyConsistency(old.size - 1, now.size, p.proof.map(b), old.root, now.root, nodeSha));
    });

    it('integrates a backlog of thousands of leaves in steps, and proves across them', async () => {
      const signer = createSigner(keys.privateKey);
      const before = await s.log.integrate(ORIGIN);
      // 5,000 receipts straight into the store (the writer thread on SQLite), then one integration.
      for (let k = 0; k < 5; k++)
        await s.store.append(
          Array.from({ length: 1000 }, (_, i) => ({
            ...(receiptBody() as unknown as SignedReceipt),
            v: 2 as const,
            id: `b${k}x${i}`.padEnd(16, 'x'),
            site: ORIGIN,
            ...timesOf(Date.now()),
            region: null,
            ua: 'Firefox',
            ipHash: 'h',
            kid: signer.kid,
          })),
          signer,
        );
      const after = await s.log.integrate(ORIGIN);
      assert.equal(after.size, before.size + 5000);
      const c = await checkpoint();
      assert.equal(c.size, after.size);
      const p = (
        await get(`/v1/log/consistency?site=${encodeURIComponent(ORIGIN)}&from=${before.size}&to=${c.size}`)
      ).json() as {
        proof: string[];
      };
      assert.ok(
        verifyConsistency(
          before.size,
          c.size,
          p.proof.map(b),
          Buffer.from(before.root, 'hex'),
          c.root,
          nodeSha,
        ),
      );
      for (const id of ['b0x0'.padEnd(16, 'x'), 'b4x999'.padEnd(16, 'x'), 'b2x500'.padEnd(16, 'x')]) {
        const l = await s.store.receiptLeaf(id);
        const q = (await get(`/v1/log/inclusion?receipt=${id}`)).json() as {
          index: number;
          size: number;
          proof: string[];
        };
        const leaf = leafHash(Buffer.from(commitment(l!.salt!, l!.body!), 'hex'), nodeSha);
        assert.ok(verifyInclusion(leaf, q.index, q.size, q.proof.map(b), c.root, nodeSha), id);
      }
    });

    it('gives the same proofs from memory, from the database, and from part of each', async () => {
      // This server's log grew its memory as it integrated; these start cold and load it.
      const key = keys.privateKey;
      const full = new TreeMemory(MEMORY_BYTES);
      const part = new TreeMemory(16 * 1024);
      const logs = [
        s.log,
        new ConsentLog(s.store, key, full),
        new ConsentLog(s.store, key, part),
        new ConsentLog(s.store, key, new TreeMemory(0)),
      ];
      const c = await checkpoint();
      for (const log of logs) assert.equal((await log.integrate(ORIGIN)).size, c.size);
      // Each holds what its budget allows: all of it, or a prefix.
      assert.ok(full.get(ORIGIN, 0, c.size - 1) && full.get(ORIGIN, 12, 0));
      assert.ok(part.get(ORIGIN, 0, 0) && !part.get(ORIGIN, 0, c.size - 1));
      for (let i = 0; i < c.size; i += 97) {
        const proofs = await Promise.all(logs.map((l) => l.inclusion(ORIGIN, i, c.size)));
        for (const p of proofs.slice(1)) assert.deepEqual(p, proofs[0], `leaf ${i}`);
        const consistent = await Promise.all(logs.map((l) => l.consistency(ORIGIN, i, c.size)));
        for (const p of consistent.slice(1)) assert.deepEqual(p, consistent[0], `from ${i}`);
        const leaf = leafHash(Buffer.from((await s.store.logLeaf(ORIGIN, i))!, 'hex'), nodeSha);
        assert.ok(verifyInclusion(leaf, i, c.size, proofs[0]!.proof, c.root, nodeSha), `leaf ${i}`);
      }
    });

    it('loads a tree into memory in steps, serving the event loop between them', async () => {
      // Over 5,000 leaves by now: two steps of leaves, then one or more per level above.
      const cold = new ConsentLog(s.store, keys.privateKey, new TreeMemory(MEMORY_BYTES));
      let ticks = 0;
      let on = true;
      const tick = () => {
        ticks++;
        if (on) setImmediate(tick);
      };
      setImmediate(tick);
      const c = await cold.integrate(ORIGIN);
      on = false;
      assert.ok(c.size > 5000);
      // On SQLite each query runs synchronously; without a yield per step the load is one task.
      assert.ok(ticks >= 12, `the event loop turned ${ticks} times during the load`);
    });

    it('answers impossible proofs with {error, field, message}', async () => {
      const c = await checkpoint();
      const cases: [string, number, string][] = [
        [`/v1/log/inclusion?site=${encodeURIComponent(ORIGIN)}&index=0&size=${c.size + 1}`, 400, 'size'],
        [`/v1/log/inclusion?site=${encodeURIComponent(ORIGIN)}&index=${c.size}&size=${c.size}`, 400, 'index'],
        [`/v1/log/inclusion?site=${encodeURIComponent(ORIGIN)}&index=-1`, 400, 'index'],
        [`/v1/log/inclusion?site=${encodeURIComponent(ORIGIN)}`, 400, 'index'],
        ['/v1/log/inclusion?receipt=AAAAAAAAAAAAAAAA', 404, 'receipt'],
        [`/v1/log/consistency?site=${encodeURIComponent(ORIGIN)}&from=5&to=${c.size + 1}`, 400, 'to'],
        [`/v1/log/consistency?site=${encodeURIComponent(ORIGIN)}&from=1&to=999999999999999`, 400, 'to'],
        // Leaf 4, asked for in the tree of 3 leaves: the parameter sent was `receipt`.
        [`/v1/log/inclusion?receipt=${ids[1]!.id}&size=3`, 400, 'receipt'],
        [`/v1/log/consistency?site=${encodeURIComponent(ORIGIN)}&from=5&to=3`, 400, 'from'],
        [`/v1/log/consistency?site=${encodeURIComponent(ORIGIN)}&from=5`, 400, 'to'],
        ['/v1/log/checkpoint?site=https%3A%2F%2Fnowhere.example', 404, 'site'],
      ];
      for (const [url, status, field] of cases) {
        const res = await get(url);
        assert.equal(res.statusCode, status, `${url}: ${res.body}`);
        const e = res.json() as { error: string; field: string; message: string };
        assert.equal(e.field, field, url);
        assert.ok(e.error.startsWith('ASSENT_') && e.message.length > 0);
      }
      const res = await s.app.inject({ method: 'POST', url: '/v1/admin/log/checkpoint' });
      assert.equal(res.statusCode, 401);
    });

    it('gives the visitor one file that proves their receipt offline, and names what fails when altered', async () => {
      // A receipt not yet in any checkpoint: the download integrates it on demand.
      const r = await post();
      const res = await get(`/v1/consents/${r.consentId}/receipts/${r.id}/proof`);
      assert.equal(res.statusCode, 200, res.body);
      assert.match(String(res.headers['content-disposition']), /attachment/);
      const file = res.json();
      // The policy the receipt names, and its publication in the same log before the receipt.
      const published = (await s.store.logEntries(ORIGIN, 100)).find((e) =>
        e.entry.includes(`"policy":"${PUBLISHED.sha256}"`),
      )!;
      assert.equal(file.policy.doc, PUBLISHED.canonical);
      assert.equal(file.policy.entry, published.entry);
      assert.deepEqual(verifyProofFile(file, [keys.publicKey]), {
        ok: true,
        site: ORIGIN,
        index: file.index,
        size: file.index + 1,
        policy: { sha256: PUBLISHED.sha256, index: published.idx, at: JSON.parse(published.entry).at },
        cosigned: [],
        days: PUBLISHED.config.days,
      });
      assert.ok(published.idx < file.index);
      const other = generateKeyPairSync('ed25519').publicKey;
      const edit = (f: (x: typeof file) => void) => {
        const c = structuredClone(file);
        f(c);
        return verifyProofFile(c, [keys.publicKey]);
      };
      const what = (c: ReturnType<typeof verifyProofFile>) => (c.ok ? 'ok' : c.what);
      assert.equal(what(edit((x) => (x.receipt.choices.marketing = true))), 'receipt-hash');
      assert.equal(what(edit((x) => (x.salt = '00'.repeat(32)))), 'inclusion');
      assert.equal(what(edit((x) => (x.index = x.index - 1))), 'inclusion');
      assert.equal(
        what(
          edit(
            (x) =>
              (x.checkpoint = x.checkpoint.replace(
                /\n(\d+)\n/,
                (_m: string, n: string) => `\n${Number(n) + 1}\n`,
              )),
          ),
        ),
        'checkpoint',
      );
      assert.equal(what(verifyProofFile(file, [other])), 'receipt-signature');
      assert.equal(what(verifyProofFile({ ...file, type: 'x' }, [keys.publicKey])), 'file');
      // The policy part: another wording, another publication time, another place in the log.
      assert.equal(what(edit((x) => (x.policy.doc = x.policy.doc.replace('}', ',"x":1}')))), 'policy');
      assert.equal(
        what(edit((x) => (x.policy.entry = x.policy.entry.replace(/"at":"\d/, '"at":"1')))),
        'policy',
      );
      assert.equal(what(edit((x) => (x.policy.index = x.policy.index + 1))), 'policy');
      assert.equal(what(edit((x) => (x.policy.index = x.index))), 'policy');
      assert.equal(what(edit((x) => (x.policy.proof = []))), 'policy');
      assert.equal(what(edit((x) => (x.policy = { doc: 1 }))), 'file');
      // A file without it (a policy published before the log began) proves the receipt alone.
      const { policy: _p, ...alone } = file;
      assert.deepEqual(verifyProofFile(alone, [keys.publicKey]), {
        ok: true,
        site: ORIGIN,
        index: file.index,
        size: file.index + 1,
        policy: null,
        cosigned: [],
        days: null,
      });
      // Only under its own consent ID.
      const wrong = await get(`/v1/consents/${'A'.repeat(22)}/receipts/${r.id}/proof`);
      assert.equal(wrong.statusCode, 404);
      assert.equal(wrong.json().field, 'receipt');
    });

    it('an erasure request purges one consent now: unlinkable leaves, same tree, the chain verifies, audited without the consent ID', async () => {
      const admin = { authorization: 'Bearer tlog-test-admin-token' };
      const erase = (payload: Record<string, unknown>) =>
        s.app.inject({ method: 'POST', url: '/v1/admin/erasures', headers: admin, payload });
      const visitor = receiptBody().consentId;
      const mine = [
        await post({ consentId: visitor }),
        await post({
          consentId: visitor,
          choices: { analytics: false, 'analytics:matomo': false, marketing: false, ad_tech: false },
        }),
        await post({ consentId: visitor }),
      ].map((r) => r.id);
      const bystander = await post();
      const elsewhere = await post({ page: { origin: OTHER, path: '/' } });
      await s.app.inject({
        method: 'POST',
        url: `/v1/admin/log/checkpoint?site=${encodeURIComponent(ORIGIN)}`,
        headers: admin,
      });
      const before = await checkpoint();
      const consents = async () =>
        (
          (
            await s.app.inject({
              url: `/v1/admin/overview?site=${encodeURIComponent(ORIGIN)}`,
              headers: admin,
            })
          ).json() as { consents: number }
        ).consents;
      const counted = await consents();

      // Another site's consent is not this site's to erase.
      const wrongSite = await erase({ site: ORIGIN, consentId: elsewhere.consentId });
      assert.equal(wrongSite.statusCode, 404, wrongSite.body);
      assert.equal(wrongSite.json().field, 'consentId');
      assert.equal((await s.store.receiptLeaf(elsewhere.id))!.body !== null, true);

      const res = await erase({ site: ORIGIN, consentId: visitor });
      assert.equal(res.statusCode, 200, res.body);
      const out = res.json() as { site: string; erased: number; receipts: string[] };
      assert.equal(out.site, ORIGIN);
      assert.equal(out.erased, 3);
      assert.deepEqual([...out.receipts].sort(), [...mine].sort());
      for (const id of mine) {
        const l = (await s.store.receiptLeaf(id))!;
        assert.equal(l.salt, null, 'the leaf links to nothing any more');
        assert.equal(l.body, null);
        assert.equal((await get(`/v1/consents/${visitor}/receipts/${id}/proof`)).statusCode, 404);
        // The leaf itself stays in the tree: its inclusion proof is still served.
        assert.equal((await get(`/v1/log/inclusion?receipt=${id}`)).statusCode, 200);
      }
      assert.equal(await s.store.latest(visitor), null);
      assert.equal((await s.store.history(visitor, { limit: 10, offset: 0 })).total, 0);
      assert.equal(await consents(), counted - 1, 'the overview no longer counts the erased consent');
      // Nobody else's receipt changed, and the tree did not: same root at the same size.
      assert.notEqual((await s.store.receiptLeaf(bystander.id))!.salt, null);
      assert.notEqual((await s.store.receiptLeaf(elsewhere.id))!.salt, null);
      const after = await checkpoint();
      assert.equal(after.size, before.size);
      assert.deepEqual(after.root, before.root);
      // The chain still verifies end to end, the erased receipts counted as purged.
      let text = '';
      const { exportChunks } = await import('../src/export.js');
      for await (const c of exportChunks(s.store, { site: ORIGIN }, 'ndjson')) text += c;
      const v = await verifyExport(text.trim().split('\n'), [createPublicKey(keys.privateKey)]);
      assert.ok(v.ok && v.purged === 3, JSON.stringify(v));
      // Audited: who, which site, how many and which receipts; never the consent ID.
      const audit = (await s.app.inject({ url: '/v1/admin/audit?limit=1', headers: admin })).json() as {
        entries: { action: string; target: string; detail: Record<string, unknown> }[];
      };
      const entry = audit.entries[0]!;
      assert.equal(entry.action, 'consent-erase');
      assert.equal(entry.target, ORIGIN);
      assert.equal(entry.detail.receipts, 3);
      assert.deepEqual(String(entry.detail.ids).split(' ').sort(), [...mine].sort());
      assert.ok(!JSON.stringify(audit).includes(visitor), 'the audit log does not keep the consent ID');

      // Once erased, nothing is left to erase; a malformed ID or an unknown site is named.
      const again = await erase({ site: ORIGIN, consentId: visitor });
      assert.equal(again.statusCode, 404);
      assert.equal(again.json().error, 'ASSENT_NOT_FOUND');
      const bad = await erase({ site: ORIGIN, consentId: 'not-an-id' });
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json().field, 'consentId');
      const unknown = await erase({ site: 'https://nowhere.example', consentId: visitor });
      assert.equal(unknown.statusCode, 400);
      assert.equal(unknown.json().error, 'ASSENT_UNKNOWN_SITE');
    });

    it('an erasure and its audit entry commit together: an audit log that refuses the entry leaves every receipt as it was', async () => {
      const admin = { authorization: 'Bearer tlog-test-admin-token' };
      const erase = (consentId: string) =>
        s.app.inject({
          method: 'POST',
          url: '/v1/admin/erasures',
          headers: admin,
          payload: { site: ORIGIN, consentId },
        });
      const auditHead = async () =>
        (
          (await s.app.inject({ url: '/v1/admin/audit?limit=1', headers: admin })).json() as {
            entries: { seq: number; action: string; detail: Record<string, unknown> }[];
          }
        ).entries[0]!;
      const visitor = receiptBody().consentId;
      const mine = [await post({ consentId: visitor }), await post({ consentId: visitor })].map((r) => r.id);
      const head = await auditHead();

      // The audit log refuses the entry (a fault injected in the database itself): the erasure
      // fails loudly and nothing of it is left behind.
      await databaseFaults(s.store, dbUrl).refuseAudit();
      try {
        const refused = await erase(visitor);
        assert.ok(refused.statusCode >= 500, `${refused.statusCode} ${refused.body}`);
        assert.ok(refused.json().error, refused.body);
        for (const id of mine) {
          const l = (await s.store.receiptLeaf(id))!;
          assert.notEqual(l.body, null, 'the receipt was not erased without its audit entry');
          assert.notEqual(l.salt, null);
        }
        assert.notEqual(await s.store.latest(visitor), null, 'the overview still counts the consent');
        assert.equal((await auditHead()).seq, head.seq);
      } finally {
        await databaseFaults(s.store, dbUrl).acceptAudit();
      }

      // A receipt of the consent stored between reading its receipts and erasing them: the
      // first attempt rolls back (entry and all) and the erasure reads them again.
      const store = s.store as { erasable: typeof s.store.erasable };
      const real = store.erasable;
      let reads = 0;
      store.erasable = async (site, id) => {
        const ids = await real.call(s.store, site, id);
        // The first read misses the newest receipt, as if it had arrived just after.
        return reads++ === 0 ? ids.slice(1) : ids;
      };
      try {
        const res = await erase(visitor);
        assert.equal(res.statusCode, 200, res.body);
        assert.deepEqual([...(res.json() as { receipts: string[] }).receipts].sort(), [...mine].sort());
        assert.equal(reads, 2);
      } finally {
        delete (store as Partial<typeof store>).erasable;
      }
      for (const id of mine) assert.equal((await s.store.receiptLeaf(id))!.salt, null);
      const entry = await auditHead();
      assert.equal(entry.seq, head.seq + 1, 'one entry: the rolled-back attempt left none');
      assert.equal(entry.action, 'consent-erase');
      assert.deepEqual(String(entry.detail.ids).split(' ').sort(), [...mine].sort());
    });

    it('gives owners and auditors the same proof file for any receipt, audited as an export; none once purged', async () => {
      const admin = { authorization: 'Bearer tlog-test-admin-token' };
      const r = await post();
      const res = await s.app.inject({ url: `/v1/admin/receipts/${r.id}/proof`, headers: admin });
      assert.equal(res.statusCode, 200, res.body);
      assert.match(String(res.headers['content-disposition']), /attachment; filename="assent-receipt-/);
      const file = res.json();
      const check = verifyProofFile(file, [keys.publicKey]);
      assert.ok(check.ok && check.policy?.sha256 === PUBLISHED.sha256, JSON.stringify(check));
      assert.equal(file.receipt.id, r.id);
      // The same file the visitor downloads from the consent page.
      const visitors = (await get(`/v1/consents/${r.consentId}/receipts/${r.id}/proof`)).json();
      assert.deepEqual(file, visitors);
      const audited = (await s.app.inject({ url: '/v1/admin/audit?limit=1', headers: admin })).json() as {
        entries: { action: string; target: string; detail: Record<string, unknown> }[];
      };
      assert.deepEqual(
        [audited.entries[0]!.action, audited.entries[0]!.target, audited.entries[0]!.detail],
        ['export', ORIGIN, { format: 'proof', receipt: r.id }],
      );
      assert.equal((await get(`/v1/admin/receipts/${r.id}/proof`)).statusCode, 401);
      const unknown = await s.app.inject({
        url: '/v1/admin/receipts/AAAAAAAAAAAAAAAA/proof',
        headers: admin,
      });
      assert.equal(unknown.statusCode, 404);
      assert.equal(unknown.json().field, 'id');
      const erased = await s.app.inject({
        method: 'POST',
        url: '/v1/admin/erasures',
        headers: admin,
        payload: { site: ORIGIN, consentId: r.consentId },
      });
      assert.equal(erased.statusCode, 200, erased.body);
      const gone = await s.app.inject({ url: `/v1/admin/receipts/${r.id}/proof`, headers: admin });
      assert.equal(gone.statusCode, 404);
      assert.match(gone.json().message, /was purged/);
    });

    it('retention deletes the salt: the leaf stays, the tree and the other proofs stay valid', async () => {
      const before = await checkpoint();
      const victim = ids[0]!;
      const n = await purgeExpired(s, 0, Date.now() + 400 * 86_400_000);
      assert.ok(n > 0);
      const l = await s.store.receiptLeaf(victim.id);
      assert.equal(l!.salt, null);
      assert.equal(l!.body, null);
      // The log did not change: same root, and a proof for a purged receipt's leaf still exists.
      const again = await checkpoint();
      assert.deepEqual(again.root, before.root);
      const p = (await get(`/v1/log/inclusion?receipt=${victim.id}`)).json() as { proof: string[] };
      assert.ok(p.proof.length > 0);
      const file = await get(`/v1/consents/${victim.consentId}/receipts/${victim.id}/proof`);
      assert.equal(file.statusCode, 404);
    });

    it('refuses tree sizes past 2^31 − 1 (the database’s integer columns) with 400 naming the parameter', async () => {
      const site = encodeURIComponent(ORIGIN);
      const cases: [string, string][] = [
        [`/v1/log/checkpoint?site=${site}&size=2147483648`, 'size'],
        [`/v1/log/checkpoint?site=${site}&size=99999999999999999999`, 'size'],
        [`/v1/log/inclusion?site=${site}&index=0&size=2147483648`, 'size'],
        [`/v1/log/inclusion?site=${site}&index=2147483648`, 'index'],
        [`/v1/log/inclusion?receipt=${ids[1]!.id}&size=2147483648`, 'size'],
        [`/v1/log/consistency?site=${site}&from=2147483648&to=1`, 'from'],
        [`/v1/log/consistency?site=${site}&from=1&to=2147483648`, 'to'],
      ];
      for (const [url, field] of cases) {
        const res = await get(url);
        assert.equal(res.statusCode, 400, `${url}: ${res.body}`);
        assert.deepEqual(res.json(), {
          error: 'ASSENT_BAD_FIELD',
          field,
          message: 'must be a whole number at most 2147483647 (the largest tree size)',
        });
      }
      // The largest is a valid size, of no checkpoint yet.
      const largest = await get(`/v1/log/checkpoint?site=${site}&size=2147483647`);
      assert.equal(largest.statusCode, 404, largest.body);
      for (const size of [1e300, 2147483648]) {
        const res = await s.app.inject({
          method: 'POST',
          url: `/v1/log/cosignature?site=${site}`,
          payload: { size, cosignature: 'x' },
        });
        assert.equal(res.statusCode, 400, `${size}: ${res.body}`);
        assert.equal(res.json().field, 'size');
      }
    });

    it('keeps a witness’s newest cosignature of a checkpoint, refuses one dated ahead, and puts it in the visitor’s proof file', async () => {
      const site = encodeURIComponent(ORIGIN);
      const integrate = () =>
        s.app.inject({
          method: 'POST',
          url: `/v1/admin/log/checkpoint?site=${site}`,
          headers: { authorization: 'Bearer tlog-test-admin-token' },
        });
      const mine = await post();
      await integrate();
      const note = (await get(`/v1/log/checkpoint?site=${site}`)).body;
      const size = Number(note.split('\n')[1]);
      const now = Math.floor(Date.now() / 1000);
      const line = (time: number) => cosignLine(note, WITNESS, witnessKeys.privateKey, time);
      const send = (time: number) =>
        s.app.inject({
          method: 'POST',
          url: `/v1/log/cosignature?site=${site}`,
          payload: { size, cosignature: line(time) },
        });
      const published = async () => (await get(`/v1/log/checkpoint?site=${site}&size=${size}`)).body;
      assert.equal((await send(now - 60)).statusCode, 201);
      assert.equal((await send(now)).statusCode, 201);
      assert.equal(await published(), `${note}${line(now)}\n`);
      // A cosignature older than the one held (a delayed or replayed request) changes nothing.
      const older = await send(now - 120);
      assert.equal(older.statusCode, 409, older.body);
      assert.equal(older.json().field, 'cosignature');
      assert.match(older.json().message, new RegExp(`older than .*${WITNESS}.*\\(timestamp ${now}\\)`));
      assert.equal(await published(), `${note}${line(now)}\n`);
      // The same one again is accepted (a retried submission), and still the one published.
      assert.equal((await send(now)).statusCode, 201);
      // One dated more than 10 minutes ahead of the server's clock is refused.
      const ahead = await send(now + 3600);
      assert.equal(ahead.statusCode, 400, ahead.body);
      assert.equal(ahead.json().field, 'cosignature');
      assert.match(ahead.json().message, /timestamp .* more than 600 s ahead/);
      assert.equal(await published(), `${note}${line(now)}\n`);

      // The visitor's proof file is against the cosigned checkpoint, cosignature included, even
      // once a newer checkpoint exists; a receipt only in that newer one has none.
      const later = await post();
      await integrate();
      const proofOf = async (r: { id: string; consentId: string }) =>
        (await get(`/v1/consents/${r.consentId}/receipts/${r.id}/proof`)).json();
      const file = await proofOf(mine);
      assert.equal(file.checkpoint, `${note}${line(now)}\n`);
      const w: Cosigner = { name: WITNESS, pub: witnessKeys.publicKey };
      const check = verifyProofFile(file, [keys.publicKey], [w]);
      assert.ok(check.ok, JSON.stringify(check));
      assert.deepEqual(check.cosigned, [{ name: WITNESS, time: now }]);
      const stranger: Cosigner = { name: WITNESS, pub: generateKeyPairSync('ed25519').publicKey };
      const not = verifyProofFile(file, [keys.publicKey], [stranger]);
      assert.equal(not.ok ? 'ok' : not.what, 'cosignature');
      const newer = await proofOf(later);
      const uncosigned = verifyProofFile(newer, [keys.publicKey], [w]);
      assert.equal(uncosigned.ok ? 'ok' : uncosigned.what, 'cosignature');
    });
  });

suite('sqlite');
suite('postgres');

describe('migrating a database that has receipts', () => {
  it('gives existing receipts their leaves; the chain still verifies with verify', async () => {
    const store = openStore('sqlite::memory:') as KyselyStore;
    await new Migrator({ db: store.db, provider: migrationProvider }).migrateTo('0003_history_probes');
    const signer = createSigner(keys.privateKey);
    await store.db
      .insertInto('policies')
      .values({ sha256: PUBLISHED.sha256, doc: PUBLISHED.canonical, created_at: new Date().toISOString() })
      .execute();
    // Five receipts as the server wrote them before the log (no salt, no leaf); the last two
    // are one visitor choosing again.
    let prev = '0'.repeat(64);
    const again = receiptBody().consentId;
    for (let seq = 1; seq <= 5; seq++) {
      const body = receiptBody(seq >= 4 ? { consentId: again } : {});
      const r = {
        ...(body as unknown as SignedReceipt),
        v: 2 as const,
        id: `id${seq}`.padEnd(16, 'x'),
        site: ORIGIN,
        seq,
        prev,
        ...timesOf(Date.now()),
        region: null,
        ua: 'Firefox',
        ipHash: 'h',
        kid: signer.kid,
      };
      const d = signer.digest(r);
      const [sig] = await signer.sign([d.hash]);
      const {
        salt: _s,
        leaf: _l,
        mode: _m,
        ...row
      } = receiptRow(r, { ...r, hash: d.hash, sig: sig!, salt: '', leaf: 0 }, d.body);
      // biome-ignore lint/suspicious/noExplicitAny: the table as it was before tlog_0001.
      await (store.db as any).insertInto('receipts').values(row).execute();
      prev = d.hash;
    }
    // biome-ignore lint/suspicious/noExplicitAny: as above.
    await (store.db as any).insertInto('chain_heads').values({ site: ORIGIN, seq: 5, hash: prev }).execute();
    // What came after 0003 (the admin console's tables sort before tlog_0001; they hold no receipts).
    assert.deepEqual(await store.migrate(), [
      '0004_consent_latest',
      '0005_latest_by_site',
      '0006_latest_by_seq',
      'admin_0001_users',
      'admin_0002_audit',
      'admin_0003_webhooks',
      'admin_0004_user_sites',
      'admin_0005_webhook_erasures',
      'tlog_0001_leaves',
      'tlog_0002_cosignatures',
      'tlog_0003_entries',
    ]);
    // 0004: each receipt's mode as a column, and each consent's latest receipt.
    assert.deepEqual(
      (await store.db.selectFrom('receipts').select('mode').execute()).map((r) => r.mode),
      ['opt-in', 'opt-in', 'opt-in', 'opt-in', 'opt-in'],
    );
    assert.deepEqual(
      (await store.db.selectFrom('consent_latest').select('receipt_id').orderBy('receipt_id').execute()).map(
        (r) => r.receipt_id.slice(0, 3),
      ),
      ['id1', 'id2', 'id3', 'id5'],
    );
    const leaves = [];
    for (let seq = 1; seq <= 5; seq++) {
      const l = await store.receiptLeaf(`id${seq}`.padEnd(16, 'x'));
      assert.equal(l!.leaf, seq - 1);
      assert.equal(canonicalReceipt(JSON.parse(l!.body!)), l!.body);
      leaves.push(leafHash(Buffer.from(commitment(l!.salt!, l!.body!), 'hex'), nodeSha));
    }
    const stored = await store.logLeaves(ORIGIN, 0, 10);
    assert.deepEqual(
      stored.map((x) => leafHash(Buffer.from(x.data, 'hex'), nodeSha)),
      leaves,
    );
    // The next receipt continues both the chain and the log.
    const [next] = await store.append(
      [
        {
          ...(receiptBody() as unknown as SignedReceipt),
          v: 2,
          id: 'id6'.padEnd(16, 'x'),
          site: ORIGIN,
          ...timesOf(Date.now()),
          region: null,
          ua: 'Firefox',
          ipHash: 'h',
          kid: signer.kid,
        },
      ],
      signer,
    );
    assert.equal(next!.seq, 6);
    assert.equal((await store.receiptLeaf(next!.id))!.leaf, 5);
    let text = '';
    const { exportChunks } = await import('../src/export.js');
    for await (const c of exportChunks(store, {}, 'ndjson')) text += c;
    const v = await verifyExport(text.trim().split('\n'), [createPublicKey(keys.privateKey)]);
    assert.ok(v.ok && v.receipts === 6, JSON.stringify(v));
    await store.close();
  });
});

describe('consent log queries on SQLite', () => {
  it('look each subtree up by its key, never reading all of a site’s nodes', async () => {
    const store = openStore('sqlite::memory:') as KyselyStore;
    await store.migrate();
    const q = nodesQuery(store.db, ORIGIN, [
      { level: 1, index: 0 },
      { level: 3, index: 2 },
      { level: 7, index: 1 },
    ]).compile();
    const plan = await store.db.executeQuery<{ detail: string }>(
      CompiledQuery.raw(`explain query plan ${q.sql}`, [...q.parameters]),
    );
    const searches = plan.rows.map((r) => r.detail).filter((d) => /SEARCH|SCAN/.test(d));
    assert.equal(searches.length, 3, JSON.stringify(plan.rows));
    for (const d of searches)
      assert.match(d, /^SEARCH tlog_nodes USING .*\(site=\? AND level=\? AND idx=\?\)$/);
    await store.close();
  });

  it("erase a consent's receipts through the consent ID's index, never walking the site's receipts", async () => {
    const store = openStore('sqlite::memory:') as KyselyStore;
    await store.migrate();
    const q = writes(store.db).erase(new Date().toISOString(), ORIGIN, consentId()).compile();
    const plan = await store.db.executeQuery<{ detail: string }>(
      CompiledQuery.raw(`explain query plan ${q.sql}`, [...q.parameters]),
    );
    assert.deepEqual(
      plan.rows.map((r) => r.detail),
      ['SEARCH receipts USING INDEX receipts_consent_at (consent_id=?)'],
    );
    // And the read of what it will erase, for its audit entry.
    const r = writes(store.db).erasable(ORIGIN, consentId()).compile();
    const read = await store.db.executeQuery<{ detail: string }>(
      CompiledQuery.raw(`explain query plan ${r.sql}`, [...r.parameters]),
    );
    assert.deepEqual(
      read.rows.map((row) => row.detail),
      ['SEARCH receipts USING INDEX receipts_consent_at (consent_id=?)'],
    );
    await store.close();
  });

  it("list a site's public entries from their own index, never walking the receipts' leaves", async () => {
    const store = openStore('sqlite::memory:') as KyselyStore;
    await store.migrate();
    const q = entriesQuery(store.db, ORIGIN, 100).compile();
    const plan = await store.db.executeQuery<{ detail: string }>(
      CompiledQuery.raw(`explain query plan ${q.sql}`, [...q.parameters]),
    );
    assert.deepEqual(
      plan.rows.map((r) => r.detail),
      ['SEARCH tlog_leaves USING INDEX tlog_leaves_entries (site=?)'],
    );
    // And the index answers it: entries among receipts' leaves, newest first.
    await store.db
      .insertInto('tlog_leaves')
      .values(
        Array.from({ length: 50 }, (_, i) => ({
          site: ORIGIN,
          idx: i,
          data: 'd',
          entry: i % 20 === 3 ? `entry ${i}` : null,
        })),
      )
      .execute();
    assert.deepEqual(await store.logEntries(ORIGIN, 10), [
      { idx: 43, entry: 'entry 43' },
      { idx: 23, entry: 'entry 23' },
      { idx: 3, entry: 'entry 3' },
    ]);
    await store.close();
  });
});
