import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { consistencyRanges, extend, hashCover, leafHash } from '@assent/core';
import { type AssentServer, createServer } from '../src/index.js';
import { nodeSha } from '../src/tlog/log.js';
import {
  type Cosigner,
  checkpointBody,
  cosignerVerifierKey,
  cosignLine,
  logOrigin,
  parseCosignerKey,
  signNote,
  verifyCheckpoint,
  verifyCosignature,
} from '../src/tlog/note.js';
import { witness } from '../src/tlog/witness.js';
import { ORIGIN, receiptBody, SITES, tempDir } from './helpers.js';

const BIN = new URL('../bin/assent-server.js', import.meta.url).pathname;
const dir = tempDir();
const keys = generateKeyPairSync('ed25519');
const pubFile = join(dir, 'key.pub.pem');
writeFileSync(pubFile, keys.publicKey.export({ type: 'spki', format: 'pem' }));
const otherPub = join(dir, 'other.pub.pem');
writeFileSync(otherPub, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));

/** The CLI as a child process, without blocking this process's servers. */
const cli = (...args: string[]) => spawnCli(args).done;

/** The CLI as a child process that a test may also kill. */
const spawnCli = (args: string[]) => {
  let child!: ReturnType<typeof execFile>;
  const done = new Promise<{ code: number; out: string; stdout: string; stderr: string }>((resolve) => {
    child = execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, ASSENT_LOG_LEVEL: 'silent' } },
      (err, stdout, stderr) =>
        resolve({
          code: err ? Number((err as { code?: number }).code ?? 1) : 0,
          out: `${stdout}${stderr}`,
          stdout,
          stderr,
        }),
    );
  });
  return { child, done };
};

const serve = async (name: string) => {
  const s = await createServer({
    db: `sqlite:${join(dir, `${name}.db`)}`,
    sites: SITES,
    adminToken: 'tlog-test-admin-token',
    logger: false,
    signingKey: keys.privateKey,
    retention: false,
    rateLimit: false,
    log: false,
  });
  await s.app.listen({ port: 0, host: '127.0.0.1' });
  const addr = s.app.server.address() as { port: number };
  return { s, url: `http://127.0.0.1:${addr.port}` };
};

const post = async (s: AssentServer, n: number) => {
  const out: { id: string; consentId: string }[] = [];
  for (let i = 0; i < n; i++) {
    const body = receiptBody();
    const res = await s.app.inject({
      method: 'POST',
      url: '/v1/receipts',
      payload: body,
      headers: { origin: ORIGIN },
    });
    assert.equal(res.statusCode, 201);
    out.push(res.json());
  }
  // Integrate now (the interval is off in tests).
  await s.app.inject({
    method: 'POST',
    url: `/v1/admin/log/checkpoint?site=${encodeURIComponent(ORIGIN)}`,
    headers: { authorization: 'Bearer tlog-test-admin-token' },
  });
  return out;
};

let a: { s: AssentServer; url: string };
let b: { s: AssentServer; url: string };
before(async () => {
  a = await serve('a');
  b = await serve('b');
});
after(async () => {
  await a.s.close();
  await b.s.close();
});

describe('assent-server verify-receipt', () => {
  it('exits 0 on a visitor’s proof, 1 naming what failed, 2 naming the option', async () => {
    // The log starts with the site's policy and the two banner builds (leaves 0-2).
    const [r] = await post(a.s, 5);
    const res = await a.s.app.inject(`/v1/consents/${r!.consentId}/receipts/${r!.id}/proof`);
    assert.equal(res.statusCode, 200);
    const file = join(dir, 'proof.json');
    writeFileSync(file, res.body);
    const ok = await cli('verify-receipt', file, '--public-key', pubFile);
    assert.equal(ok.code, 0, ok.out);
    assert.match(
      ok.out,
      /^ok: .*leaf 3 of http:\/\/127\.0\.0\.1:3000's log in the signed checkpoint of size 8; the policy it names \([0-9a-f]{64}, its text in the file\) was published in the same log at leaf 0, \d{4}-\d\d-\d\dT[\d:.]+Z, before it$/m,
    );

    const altered = JSON.parse(res.body);
    altered.receipt.choices.marketing = true;
    writeFileSync(join(dir, 'altered.json'), JSON.stringify(altered));
    const bad = await cli('verify-receipt', join(dir, 'altered.json'), '--public-key', pubFile);
    assert.equal(bad.code, 1);
    assert.match(bad.out, /INVALID \(receipt-hash\)/);

    const otherKey = await cli('verify-receipt', file, '--public-key', otherPub);
    assert.equal(otherKey.code, 1);
    assert.match(otherKey.out, /INVALID \(receipt-signature\)/);

    const noKey = await cli('verify-receipt', file);
    assert.equal(noKey.code, 2);
    assert.match(noKey.out, /--public-key is required/);
    const notKey = await cli('verify-receipt', file, '--public-key', file);
    assert.equal(notKey.code, 2);
    assert.match(notKey.out, /--public-key: .* is not a PEM public key/);
  });
});

describe('assent-server witness', () => {
  it('stores consistent checkpoints and exits 1 on a forked log, keeping the evidence', async () => {
    const state = join(dir, 'witness');
    const cp = (url: string) => `${url}/v1/log/checkpoint?site=${encodeURIComponent(ORIGIN)}`;
    const first = await cli('witness', cp(a.url), '--state', state, '--public-key', pubFile);
    assert.equal(first.code, 0, first.out);
    assert.match(first.out, /first checkpoint seen/);
    await post(a.s, 4);
    const grew = await cli('witness', cp(a.url), '--state', state, '--public-key', pubFile);
    assert.equal(grew.code, 0, grew.out);
    assert.match(grew.out, /grew from 8 to 12 leaves, consistent/);
    // Nothing appended since: said so, not "grew from 12 to 12".
    const same = await cli('witness', cp(a.url), '--state', state, '--public-key', pubFile);
    assert.equal(same.code, 0, same.out);
    assert.match(same.out, /^ok: \S+ unchanged at 12 leaves, same root; stored$/m);

    // Server B: the same key and the same site, but another history (its own receipts): the
    // operator showing this witness a different log. Larger, so a consistency proof is asked.
    await post(b.s, 12);
    const fork = await cli('witness', cp(b.url), '--state', state, '--public-key', pubFile);
    assert.equal(fork.code, 1, fork.out);
    assert.match(fork.out, /^FORK: the checkpoint of size 15 does not extend the one of size 12/);
    assert.ok(readdirSync(state).some((f) => f.includes('.fork-')));
    // The stored checkpoint is still A's: A's next one is accepted.
    const again = await cli('witness', cp(a.url), '--state', state, '--public-key', pubFile);
    assert.equal(again.code, 0, again.out);

    const wrongKey = await cli('witness', cp(a.url), '--state', state, '--public-key', otherPub);
    assert.equal(wrongKey.code, 1);
    assert.match(wrongKey.out, /FAILED: the checkpoint does not verify/);
    const noState = await cli('witness', cp(a.url), '--public-key', pubFile);
    assert.equal(noState.code, 2);
    assert.match(noState.out, /--state is required/);
  });
});

describe('assent-server witness: the log it watches is named by the URL, not by the checkpoint', () => {
  it('refuses a checkpoint signed under another origin, and needs --origin when the URL has no site', async () => {
    // The log's operator (holding the signing key) shows a tree under a slightly different name.
    const body = checkpointBody(`${logOrigin(ORIGIN)}/`, 3, new Uint8Array(32).fill(2));
    let served = signNote(body, `${logOrigin(ORIGIN)}/`, keys.privateKey);
    const fake = createHttpServer((_req, res) => res.end(served));
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(fake.address() as { port: number }).port}/v1/log/checkpoint`;
    try {
      const state = join(dir, 'witness-origin');
      const renamed = await cli(
        'witness',
        `${base}?site=${encodeURIComponent(ORIGIN)}`,
        '--state',
        state,
        '--public-key',
        pubFile,
      );
      assert.equal(renamed.code, 1, renamed.out);
      assert.match(
        renamed.out,
        /^FAILED: the checkpoint is for the log "http:127\.0\.0\.1:3000\/assent-log\/", not "http:127\.0\.0\.1:3000\/assent-log"/,
      );
      assert.deepEqual(existsSync(state) ? readdirSync(state) : [], [], 'nothing stored');
      const noSite = await cli('witness', base, '--state', state, '--public-key', pubFile);
      assert.equal(noSite.code, 2, noSite.out);
      assert.match(noSite.out, /--origin is required when the URL has no \?site=/);
      const named = await cli(
        'witness',
        base,
        '--state',
        state,
        '--public-key',
        pubFile,
        '--origin',
        logOrigin(ORIGIN),
      );
      assert.equal(named.code, 1, named.out);
      assert.match(named.out, /^FAILED: the checkpoint is for the log/);
      const both = await cli(
        'witness',
        `${base}?site=${encodeURIComponent(ORIGIN)}`,
        '--state',
        state,
        '--public-key',
        pubFile,
        '--origin',
        'other.example/assent-log',
      );
      assert.equal(both.code, 2, both.out);
      assert.match(
        both.out,
        /--origin: other\.example\/assent-log is not the log of the URL's site http:\/\/127\.0\.0\.1:3000, which is http:127\.0\.0\.1:3000\/assent-log/,
      );
      // A log under the origin named is witnessed, without ?site= too.
      served = signNote(
        checkpointBody(logOrigin(ORIGIN), 3, new Uint8Array(32).fill(2)),
        logOrigin(ORIGIN),
        keys.privateKey,
      );
      const own = await cli(
        'witness',
        base,
        '--state',
        state,
        '--public-key',
        pubFile,
        '--origin',
        logOrigin(ORIGIN),
      );
      assert.equal(own.code, 0, own.out);
      assert.match(
        own.out,
        /^ok: http:127\.0\.0\.1:3000\/assent-log at tree size 3, stored \(first checkpoint seen\)/,
      );
    } finally {
      fake.close();
    }
  });

  it('refuses a key file that is missing or not Ed25519, naming --public-key', async () => {
    const cp = `${a.url}/v1/log/checkpoint?site=${encodeURIComponent(ORIGIN)}`;
    const missing = await cli(
      'witness',
      cp,
      '--state',
      join(dir, 'w-k'),
      '--public-key',
      join(dir, 'nope.pem'),
    );
    assert.equal(missing.code, 2);
    assert.match(missing.out, /--public-key: cannot read .*nope\.pem: ENOENT/);
    const rsa = join(dir, 'rsa.pub.pem');
    writeFileSync(
      rsa,
      generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }),
    );
    const notEd = await cli('verify-receipt', rsa, '--public-key', rsa);
    assert.equal(notEd.code, 2);
    assert.match(notEd.out, /--public-key: .* is not an Ed25519 key \(it is rsa\)/);
    const extra = await cli('witness', cp, cp, '--state', join(dir, 'w-k'), '--public-key', pubFile);
    assert.equal(extra.code, 2);
    assert.match(extra.out, /unexpected argument/);
  });
});

describe('witness cosignatures (C2SP tlog-cosignature)', () => {
  it('a configured witness cosigns a checkpoint it verified; the log publishes it beside its own signature', async () => {
    const keyFile = join(dir, 'witness-key.pem');
    const made = await cli('witness-key', '--name', 'witness.example/w1', '--out', keyFile);
    assert.equal(made.code, 0, made.out);
    const vkey = /^(witness\.example\/w1\+[0-9a-f]{8}\+\S+)$/m.exec(made.out)?.[1];
    assert.ok(vkey, made.out);
    const again = await cli('witness-key', '--name', 'witness.example/w1', '--out', keyFile);
    assert.equal(again.code, 2, 'a witness key is never overwritten');

    const c = await createServer({
      db: `sqlite:${join(dir, 'c.db')}`,
      sites: SITES,
      adminToken: 'tlog-test-admin-token',
      logger: false,
      signingKey: keys.privateKey,
      retention: false,
      rateLimit: false,
      log: false,
      witnesses: [vkey],
    });
    try {
      await c.app.listen({ port: 0, host: '127.0.0.1' });
      const url = `http://127.0.0.1:${(c.app.server.address() as { port: number }).port}`;
      const first3 = await post(c, 3);
      const cp = `${url}/v1/log/checkpoint?site=${encodeURIComponent(ORIGIN)}`;
      const state = join(dir, 'witness-c');
      const run = await cli(
        'witness',
        cp,
        '--state',
        state,
        '--public-key',
        pubFile,
        '--key',
        keyFile,
        '--name',
        'witness.example/w1',
        '--submit',
      );
      assert.equal(run.code, 0, run.out);
      assert.match(run.out, /submitted/);

      const note = await (await fetch(cp)).text();
      const sigs = note
        .slice(note.indexOf('\n\n') + 2)
        .trim()
        .split('\n');
      assert.equal(sigs.length, 2, note);
      assert.match(sigs[1]!, /^\u2014 witness\.example\/w1 /);
      // Anyone holding the witness's verifier key checks it: the log's signature still verifies too.
      const w = parseCosignerKey(vkey) as Cosigner;
      const v = verifyCosignature(note, sigs[1]!, [w]);
      assert.ok(v.ok, JSON.stringify(v));
      assert.ok(verifyCheckpoint(note, logOrigin(ORIGIN), keys.publicKey).ok);
      const size = Number(note.split('\n')[1]);

      // The visitor's proof file carries the checkpoint with its cosignature, so a visitor who
      // trusts this witness can require it; another witness's key, or a malformed one, cannot pass.
      const [mine] = await post(c, 1);
      const proof = await c.app.inject(`/v1/consents/${mine!.consentId}/receipts/${mine!.id}/proof`);
      assert.equal(proof.statusCode, 200, proof.body);
      const proofFile = join(dir, 'proof-c.json');
      writeFileSync(proofFile, proof.body);
      // A receipt logged after the cosigned checkpoint: the file is against the newer
      // checkpoint, which no witness has cosigned yet.
      const uncosigned = await cli('verify-receipt', proofFile, '--public-key', pubFile, '--witness', vkey);
      assert.equal(uncosigned.code, 1, uncosigned.out);
      assert.match(uncosigned.out, /^INVALID \(cosignature\): .*witness\.example\/w1/m);
      const { consentId: earlyConsent, id: earlyId } = first3[0]!;
      const earlyProof = await c.app.inject(`/v1/consents/${earlyConsent}/receipts/${earlyId}/proof`);
      assert.equal(earlyProof.statusCode, 200, earlyProof.body);
      assert.ok(JSON.parse(earlyProof.body).checkpoint.endsWith(`${sigs[1]}\n`), earlyProof.body);
      const earlyFile = join(dir, 'proof-c-early.json');
      writeFileSync(earlyFile, earlyProof.body);
      const cosigned = await cli('verify-receipt', earlyFile, '--public-key', pubFile, '--witness', vkey);
      assert.equal(cosigned.code, 0, cosigned.out);
      assert.match(cosigned.out, /cosigned by witness\.example\/w1 at \d{4}-\d\d-\d\dT/);
      const stranger2 = cosignerVerifierKey('witness.example/w2', generateKeyPairSync('ed25519').publicKey);
      const notHis = await cli('verify-receipt', earlyFile, '--public-key', pubFile, '--witness', stranger2);
      assert.equal(notHis.code, 1, notHis.out);
      assert.match(notHis.out, /^INVALID \(cosignature\): .*witness\.example\/w2/m);
      const malformed = await cli(
        'verify-receipt',
        earlyFile,
        '--public-key',
        pubFile,
        '--witness',
        'w1+xyz',
      );
      assert.equal(malformed.code, 2, malformed.out);
      assert.match(malformed.out, /--witness: "w1\+xyz" must be a cosigner verifier key/);

      // The log accepts only a configured witness's valid cosignature of a checkpoint it signed.
      const send = (body: unknown) =>
        c.app.inject({
          method: 'POST',
          url: `/v1/log/cosignature?site=${encodeURIComponent(ORIGIN)}`,
          payload: body as object,
        });
      const impostor = generateKeyPairSync('ed25519').privateKey;
      const forged = await send({
        size,
        cosignature: cosignLine(note, 'witness.example/w1', impostor, 1_700_000_000),
      });
      assert.equal(forged.statusCode, 400);
      assert.equal(forged.json().field, 'cosignature');
      const stranger = await send({
        size,
        cosignature: cosignLine(note, 'other.example/w', impostor, 1_700_000_000),
      });
      assert.equal(stranger.statusCode, 400);
      assert.match(stranger.json().message, /not a witness this log accepts/);
      const noSuchSize = await send({ size: size + 100, cosignature: sigs[1] });
      assert.equal(noSuchSize.statusCode, 404);
      assert.equal(noSuchSize.json().field, 'size');
      // A cosignature of this size does not verify over another checkpoint's text.
      await post(c, 1);
      const newer = await (await fetch(cp)).text();
      assert.equal(verifyCosignature(newer, sigs[1]!, [w]).ok, false);
      assert.equal(
        newer
          .slice(newer.indexOf('\n\n') + 2)
          .trim()
          .split('\n').length,
        1,
        'not yet cosigned',
      );
      // The cosigned checkpoint stays available by size, with its cosignature.
      const old = await (await fetch(`${cp}&size=${size}`)).text();
      assert.equal(old, note);
      // A server with no witnesses configured accepts none.
      const none = await a.s.app.inject({
        method: 'POST',
        url: `/v1/log/cosignature?site=${encodeURIComponent(ORIGIN)}`,
        payload: { size: 1, cosignature: sigs[1] },
      });
      assert.equal(none.statusCode, 403);
    } finally {
      await c.close();
    }
  });

  it('checks the witness options before fetching anything, and refuses a bad verifier key at start', async () => {
    const half = await cli(
      'witness',
      'http://127.0.0.1:1/v1/log/checkpoint',
      '--state',
      dir,
      '--public-key',
      pubFile,
      '--key',
      'k.pem',
    );
    assert.equal(half.code, 2);
    assert.match(half.out, /--key and --name go together/);
    await assert.rejects(
      createServer({ db: 'sqlite::memory:', sites: SITES, logger: false, witnesses: ['w+00000000+AAAA'] }),
      /witnesses\[0\]: must be an Ed25519 cosignature\/v1 key/,
    );
  });
});

/** The Merkle tree hash of `leaves` (RFC 9162 MTH). */
const mth = (leaves: readonly Uint8Array[]) => hashCover(extend(0, [], leaves, nodeSha).frontier, nodeSha);

/**
 * A log that shows each client its own history (a split view): `?view=` stands for the client
 * the operator recognises. `base` is a tree of 4 leaves; `a` and `b` are two different trees of
 * 8 leaves, each extending `base`; `a9` extends `a` by one leaf (the log grew); `hang` shows
 * `a` but never answers its consistency proof.
 * Consistency proofs wait for `hold(view)`.
 */
const splitLog = async (hold: (view: string, served: readonly string[]) => Promise<void>) => {
  const origin = logOrigin(ORIGIN);
  const leaves = (seed: number, n: number) =>
    Array.from({ length: n }, (_, i) => leafHash(Uint8Array.of(i < 4 ? i : seed + i), nodeSha));
  const trees: Record<string, Uint8Array[]> = {
    base: leaves(0, 4),
    a: leaves(10, 8),
    b: leaves(20, 8),
    a9: leaves(10, 9),
    hang: leaves(10, 8),
  };
  const served: string[] = [];
  const server = createHttpServer(async (req, res) => {
    const u = new URL(req.url!, 'http://log');
    const view = u.searchParams.get('view') ?? 'base';
    const t = trees[view]!;
    if (u.pathname.endsWith('/checkpoint')) {
      served.push(view);
      res.end(signNote(checkpointBody(origin, t.length, mth(t)), origin, keys.privateKey));
      return;
    }
    await hold(view, served);
    const from = Number(u.searchParams.get('from'));
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        proof: consistencyRanges(from, t.length).map((r) =>
          Buffer.from(mth(t.slice(r.start, r.end))).toString('base64'),
        ),
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: (view: string) =>
      `http://127.0.0.1:${port}/v1/log/checkpoint?site=${encodeURIComponent(ORIGIN)}&view=${view}`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
};

/** The lock file of the log `origin` in a witness's state directory. */
const lockOf = (state: string) =>
  join(state, `${createHash('sha256').update(logOrigin(ORIGIN)).digest('hex').slice(0, 16)}.lock`);

describe('assent-server witness: one run at a time per log', () => {
  it('two overlapping runs shown two different trees: one stores and cosigns, the other waits, then reports the fork', async () => {
    // Each consistency proof waits (up to 2 s) until both runs have fetched their checkpoint:
    // without a lock, both then compare against the same stored checkpoint and both succeed.
    const log = await splitLog(async (_view, served) => {
      for (let i = 0; i < 100 && !(served.includes('a') && served.includes('b')); i++) await sleep(20);
      await sleep(300);
    });
    try {
      const state = join(dir, 'witness-overlap');
      const base = await cli('witness', log.url('base'), '--state', state, '--public-key', pubFile);
      assert.equal(base.code, 0, base.out);
      const keyFile = join(dir, 'overlap-key.pem');
      assert.equal((await cli('witness-key', '--name', 'w.example/o', '--out', keyFile)).code, 0);
      const run = (view: string) =>
        cli(
          'witness',
          log.url(view),
          '--state',
          state,
          '--public-key',
          pubFile,
          '--key',
          keyFile,
          '--name',
          'w.example/o',
        );
      const runs = await Promise.all([run('a'), run('b')]);
      const outs = runs.map((r) => r.out).join('\n----\n');
      assert.deepEqual(
        runs.map((r) => r.code).sort(),
        [0, 1],
        `one run stores, the other sees the fork:\n${outs}`,
      );
      const forked = runs.find((r) => r.code === 1)!;
      assert.match(forked.out, /^FORK: two different roots for the same tree size 8/m);
      assert.equal((outs.match(/^cosignature: /gm) ?? []).length, 1, `one cosignature:\n${outs}`);
      assert.ok(!existsSync(lockOf(state)), 'the lock is released');
      assert.deepEqual(
        readdirSync(state).filter((f) => f.endsWith('.tmp')),
        [],
        'no temporary file is left behind',
      );
    } finally {
      log.close();
    }
  });

  it('a run whose checkpoint is slow to arrive while the log grows is no fork: the next run fetches under the lock', async () => {
    // Run 1's answer (the tree of 8) is on its way while run 2 is started against the grown
    // log (9). When run 1 fetched before taking the lock, run 2 stored 9 first and run 1 then
    // reported its own older checkpoint as "the tree shrank from 9 to 8": a false fork.
    const log = await splitLog(async () => {});
    try {
      const state = join(dir, 'witness-slow');
      const first = await witness(log.url('base'), state, [keys.publicKey], logOrigin(ORIGIN));
      assert.ok(first.ok, JSON.stringify(first));
      let secondDone!: () => void;
      const second = new Promise<void>((r) => {
        secondDone = r;
      });
      const fetchText = async (u: string) => {
        const res = await fetch(u);
        return { status: res.status, text: await res.text() };
      };
      const slow = witness(log.url('a'), state, [keys.publicKey], logOrigin(ORIGIN), {
        get: async (u) => {
          const r = await fetchText(u);
          if (u.includes('/checkpoint')) await Promise.race([second, sleep(1_500)]);
          return r;
        },
      });
      await sleep(100);
      const grown = await witness(log.url('a9'), state, [keys.publicKey], logOrigin(ORIGIN), {
        lockWaitMs: 5_000,
      });
      secondDone();
      const late = await slow;
      assert.ok(late.ok, `the slow run is no fork: ${JSON.stringify(late)}`);
      assert.ok(grown.ok, `the run against the grown log waited and checked 8 → 9: ${JSON.stringify(grown)}`);
      assert.equal(grown.ok && grown.from, 8);
      assert.deepEqual(
        readdirSync(state).filter((f) => f.includes('.fork-')),
        [],
        'no fork evidence written',
      );
    } finally {
      log.close();
    }
  });

  it('a run finding the lock held by a live run waits, then gives up naming it; a dead run’s or an old lock is taken over', async () => {
    const log = await splitLog(async (view) => {
      if (view === 'hang') await new Promise(() => {});
    });
    try {
      const state = join(dir, 'witness-lock');
      assert.equal(
        (await cli('witness', log.url('base'), '--state', state, '--public-key', pubFile)).code,
        0,
      );
      // A run that hangs while it holds the lock (waiting for the consistency proof).
      const hung = spawnCli(['witness', log.url('hang'), '--state', state, '--public-key', pubFile]);
      for (let i = 0; i < 300 && !existsSync(lockOf(state)); i++) await sleep(50);
      assert.ok(existsSync(lockOf(state)), 'the hanging run holds the lock');

      const busy = await witness(log.url('a'), state, [keys.publicKey], logOrigin(ORIGIN), {
        lockWaitMs: 300,
      });
      assert.equal(busy.ok, false);
      assert.ok(!busy.ok && busy.busy === lockOf(state), JSON.stringify(busy));
      assert.match(busy.ok ? '' : busy.reason, new RegExp(`pid ${hung.child.pid} `));

      // Killed (no chance to remove its lock): the next run takes the dead run's lock over.
      hung.child.kill('SIGKILL');
      await hung.done;
      const next = await cli('witness', log.url('a'), '--state', state, '--public-key', pubFile);
      assert.equal(next.code, 0, next.out);
      assert.match(next.out, /taking over .*\.lock.*pid \d+ .*is not running/);
      assert.ok(!existsSync(lockOf(state)));

      // A lock of a live process, older than 10 minutes, is taken over too (said on stderr).
      writeFileSync(
        lockOf(state),
        JSON.stringify({ pid: process.pid, host: hostname(), at: new Date().toISOString(), token: 'x' }),
      );
      const old = new Date(Date.now() - 11 * 60_000);
      utimesSync(lockOf(state), old, old);
      const notes: string[] = [];
      const r = await witness(log.url('a'), state, [keys.publicKey], logOrigin(ORIGIN), {
        lockWaitMs: 300,
        warn: (m) => notes.push(m),
      });
      assert.ok(r.ok, JSON.stringify(r));
      assert.match(notes.join('\n'), /taking over .*\.lock.*older than 10 minutes/);
      // And a fresh one of a live process is not.
      writeFileSync(
        lockOf(state),
        JSON.stringify({ pid: process.pid, host: hostname(), at: new Date().toISOString(), token: 'y' }),
      );
      const held = await witness(log.url('a'), state, [keys.publicKey], logOrigin(ORIGIN), {
        lockWaitMs: 200,
      });
      assert.ok(!held.ok && held.busy, JSON.stringify(held));
      assert.match(readFileSync(lockOf(state), 'utf8'), /"token":"y"/, 'left as it was');
    } finally {
      log.close();
    }
  });
});

describe('assent-server witness, witness-key, verify-receipt: mistakes are caught before any work', () => {
  it('checks --state, --out and the proof file up front, naming them (exit 2)', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    // Port 1 refuses: a run that fetched first would fail with exit 1 instead.
    const cp = `http://127.0.0.1:1/v1/log/checkpoint?site=${encodeURIComponent(ORIGIN)}`;
    const stateIsFile = await cli('witness', cp, '--state', file, '--public-key', pubFile);
    assert.equal(stateIsFile.code, 2, stateIsFile.out);
    assert.match(stateIsFile.out, /--state: .*a-file is not a directory/);
    const under = await cli('witness', cp, '--state', join(file, 'sub'), '--public-key', pubFile);
    assert.equal(under.code, 2, under.out);
    assert.match(under.out, /--state: cannot make the directory .*a-file\/sub: /);

    const noDir = await cli('witness-key', '--name', 'w.example/x', '--out', '/nonexistent/dir/k.pem');
    assert.equal(noDir.code, 2, noDir.out);
    assert.match(noDir.out, /--out: \/nonexistent\/dir is not a directory/);

    const missing = await cli('verify-receipt', join(dir, 'no-such.proof.json'), '--public-key', pubFile);
    assert.equal(missing.code, 2, missing.out);
    assert.match(missing.out, /cannot read .*no-such\.proof\.json: ENOENT/);
  });

  it('refuses options of other commands, naming them (exit 2)', async () => {
    const cp = `http://127.0.0.1:1/v1/log/checkpoint?site=${encodeURIComponent(ORIGIN)}`;
    const cases: [string[], string][] = [
      [['witness', cp, '--state', join(dir, 'w-o'), '--public-key', pubFile, '--site', ORIGIN], '--site'],
      [['witness', cp, '--state', join(dir, 'w-o'), '--public-key', pubFile, '--db', 'sqlite:x.db'], '--db'],
      [['verify-receipt', pubFile, '--public-key', pubFile, '--state', dir], '--state'],
      [['verify-receipt', pubFile, '--public-key', pubFile, '--out', 'x'], '--out'],
      [
        ['witness-key', '--name', 'w.example/x', '--out', join(dir, 'wk.pem'), '--public-key', pubFile],
        '--public-key',
      ],
      [
        ['witness', cp, '--state', join(dir, 'w-o'), '--public-key', pubFile, '--witness', 'w+0+A'],
        '--witness',
      ],
    ];
    for (const [args, option] of cases) {
      const r = await cli(...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.out}`);
      assert.match(r.out, new RegExp(`${option} is not an option of ${args[0]}`), r.out);
    }
    assert.ok(!existsSync(join(dir, 'wk.pem')), 'no key written');
  });
});

describe('notes and cosignatures (tlog/note.ts)', () => {
  const origin = logOrigin(ORIGIN);
  const note = signNote(checkpointBody(origin, 3, new Uint8Array(32).fill(7)), origin, keys.privateKey);

  it('accepts a cosignature when two configured witness keys share its name (C2SP: name and key ID)', () => {
    const old = generateKeyPairSync('ed25519');
    const current = generateKeyPairSync('ed25519');
    const name = 'witness.example/w1';
    const line = cosignLine(note, name, current.privateKey, 1_700_000_000);
    const both: Cosigner[] = [
      { name, pub: old.publicKey },
      { name, pub: current.publicKey },
    ];
    assert.deepEqual(verifyCosignature(note, line, both), { ok: true, name, time: 1_700_000_000 });
    assert.equal(verifyCosignature(note, line, [both[0]!]).ok, false);
  });

  it('takes nothing from a note with no signature block (no empty line)', () => {
    // A cosignature/v1 over an empty body, by hand: a note without an empty line has no body.
    const w = generateKeyPairSync('ed25519');
    const name = 'witness.example/w1';
    const raw = Buffer.from(w.publicKey.export({ format: 'jwk' }).x!, 'base64url');
    const id = createHash('sha256')
      .update(Buffer.concat([Buffer.from(`${name}\n`), Buffer.of(4), raw]))
      .digest()
      .subarray(0, 4);
    const ts = Buffer.alloc(8);
    ts.writeBigUInt64BE(1_700_000_000n);
    const sig = sign(null, Buffer.from('cosignature/v1\ntime 1700000000\n'), w.privateKey);
    const line = `\u2014 ${name} ${Buffer.concat([id, ts, sig]).toString('base64')}`;
    const v = verifyCosignature('no empty line here', line, [{ name, pub: w.publicKey }]);
    assert.equal(v.ok, false, JSON.stringify(v));
    assert.match(v.ok ? '' : v.reason, /no signature block/);
    assert.throws(() => cosignLine('no empty line here', name, w.privateKey, 1), /no signature block/);
  });

  it('reads tree sizes up to 2^31 − 1 only (the PostgreSQL columns are 32-bit)', () => {
    const at = (size: number) =>
      verifyCheckpoint(
        signNote(checkpointBody(origin, size, new Uint8Array(32)), origin, keys.privateKey),
        origin,
        keys.publicKey,
      );
    assert.ok(at(2 ** 31 - 1).ok);
    const past = at(2 ** 31);
    assert.equal(past.ok, false);
    assert.match(past.ok ? '' : past.reason, /no valid tree size/);
  });
});
