import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type AssentServer, createServer } from '../src/index.js';
import {
  type Cosigner,
  checkpointBody,
  cosignLine,
  logOrigin,
  parseCosignerKey,
  signNote,
  verifyCheckpoint,
  verifyCosignature,
} from '../src/tlog/note.js';
import { ORIGIN, receiptBody, SITES, tempDir } from './helpers.js';

const BIN = new URL('../bin/assent-server.js', import.meta.url).pathname;
const dir = tempDir();
const keys = generateKeyPairSync('ed25519');
const pubFile = join(dir, 'key.pub.pem');
writeFileSync(pubFile, keys.publicKey.export({ type: 'spki', format: 'pem' }));
const otherPub = join(dir, 'other.pub.pem');
writeFileSync(otherPub, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));

/** The CLI as a child process, without blocking this process's servers. */
const cli = (...args: string[]) =>
  new Promise<{ code: number; out: string }>((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, ASSENT_LOG_LEVEL: 'silent' } },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` }),
    );
  });

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
      await post(c, 3);
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
