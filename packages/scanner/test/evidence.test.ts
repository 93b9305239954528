import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { privateKey, publicKey } from '../src/evidence.js';
import { newKeyPair, sealEvidence, verifyEvidence } from '../src/index.js';
import { harUntil } from '../src/phase.js';

describe('the evidence pack: a signed manifest of every file', () => {
  let dir: string;
  const keys = newKeyPair();
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'assent-evidence-'));
    await mkdir(join(dir, 'har'));
    await writeFile(join(dir, 'report.json'), '{"summary":{}}\n');
    await writeFile(join(dir, 'har', '1-before.har'), '{"log":{}}\n');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('lists every file with its SHA-256 and verifies with the public key', async () => {
    const m = await sealEvidence(dir, 'assent-scan test', privateKey(keys.privatePem));
    assert.deepEqual(
      m.files.map((f) => f.path),
      ['har/1-before.har', 'report.json'],
    );
    assert.match(m.files[0]!.sha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(await verifyEvidence(dir, publicKey(keys.publicPem)), []);
  });

  it('the documented openssl command verifies the same signature', async () => {
    await writeFile(join(dir, '..', 'assent-test.pub.pem'), keys.publicPem).catch(() => {});
    const pub = join(dir, '..', 'assent-test.pub.pem');
    await writeFile(
      join(dir, '..', 'assent-test.sig.bin'),
      Buffer.from((await readFile(join(dir, 'manifest.sig'), 'utf8')).trim(), 'base64'),
    );
    const r = spawnSync(
      'openssl',
      [
        'pkeyutl',
        '-verify',
        '-pubin',
        '-inkey',
        pub,
        '-rawin',
        '-in',
        join(dir, 'manifest.json'),
        '-sigfile',
        join(dir, '..', 'assent-test.sig.bin'),
      ],
      { encoding: 'utf8' },
    );
    await rm(pub, { force: true });
    await rm(join(dir, '..', 'assent-test.sig.bin'), { force: true });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Signature Verified Successfully/);
  });

  it('names a changed, a removed and an added file, and a wrong key', async () => {
    await writeFile(join(dir, 'report.json'), '{"summary":{"edited":true}}\n');
    await rm(join(dir, 'har', '1-before.har'));
    await writeFile(join(dir, 'extra.txt'), 'x');
    assert.deepEqual(await verifyEvidence(dir, publicKey(keys.publicPem)), [
      'har/1-before.har: missing',
      'report.json: changed since the scan (SHA-256 differs)',
      'extra.txt: added after the scan',
    ]);
    const other = newKeyPair();
    assert.deepEqual(
      (await verifyEvidence(dir, publicKey(other.publicPem)))[0],
      'manifest.json: the signature does not match this key',
    );
  });

  it('refuses a key that is not Ed25519', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    assert.throws(() => privateKey(rsa), /an Ed25519 key is needed, not rsa/);
  });
});

describe('the evidence pack holds only what this scan wrote', () => {
  const keys = newKeyPair();

  it('leaves out, and never signs, files an earlier scan left in the directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'assent-evidence-old-'));
    try {
      // An earlier scan's screenshot and report, written before this process started.
      await mkdir(join(dir, 'har'));
      await writeFile(join(dir, 'screenshot-old.png'), 'old');
      await writeFile(join(dir, 'har', 'accept.har'), '{"log":{"old":true}}\n');
      const past = new Date(performance.timeOrigin - 3_600_000);
      await utimes(join(dir, 'screenshot-old.png'), past, past);
      await utimes(join(dir, 'har', 'accept.har'), past, past);
      // This scan's.
      await writeFile(join(dir, 'report.md'), '# Assent scan\n');
      const m = await sealEvidence(dir, 'assent-scan test', privateKey(keys.privatePem));
      assert.deepEqual(
        m.files.map((f) => f.path),
        ['report.md'],
      );
      const signed = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
      assert.deepEqual(
        signed.files.map((f: { path: string }) => f.path),
        ['report.md'],
      );
      // The pack does not pass for the leftovers: verify names them.
      assert.deepEqual(await verifyEvidence(dir, publicKey(keys.publicPem)), [
        'har/accept.har: added after the scan',
        'screenshot-old.png: added after the scan',
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('signs exactly the files named, when the caller tracked them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'assent-evidence-named-'));
    try {
      await writeFile(join(dir, 'report.json'), '{}\n');
      await writeFile(join(dir, 'stray.txt'), 'not this scan');
      const m = await sealEvidence(dir, 'assent-scan test', null, {
        files: [join(dir, 'report.json'), 'report.json'],
      });
      assert.deepEqual(
        m.files.map((f) => f.path),
        ['report.json'],
      );
      await assert.rejects(
        sealEvidence(dir, 'assent-scan test', null, { files: ['../elsewhere.txt'] }),
        /is not inside the evidence directory/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('HARs in the evidence pack', () => {
  // What Playwright's recordHar writes, cut down: a request that sends two cookies, its
  // response setting one, both as headers and as HAR `cookies` lists.
  const entry = (at: string) => ({
    startedDateTime: at,
    request: {
      method: 'GET',
      url: 'https://shop.example/',
      headers: [
        { name: 'Accept', value: 'text/html' },
        { name: 'Cookie', value: '_ga=GA1.1.123456.789; assent=v1.abc; session=s3cr3t' },
      ],
      cookies: [
        { name: '_ga', value: 'GA1.1.123456.789' },
        { name: 'session', value: 's3cr3t' },
      ],
    },
    response: {
      status: 200,
      headers: [
        { name: 'set-cookie', value: 'uid=u-42; Path=/; Max-Age=31536000; HttpOnly\nab=b; Path=/' },
        { name: 'Set-Cookie', value: 'theme=dark' },
      ],
      cookies: [{ name: 'uid', value: 'u-42', path: '/', httpOnly: true }],
    },
  });
  const har = Buffer.from(
    JSON.stringify({
      log: {
        version: '1.2',
        entries: [entry('2026-12-01T10:00:00.000Z'), entry('2026-12-01T10:00:05.000Z')],
      },
    }),
  );

  it('keeps cookie names and attributes, never their values (Cookie, Set-Cookie, the cookies lists)', () => {
    const text = harUntil(har).toString('utf8');
    for (const secret of ['GA1.1.123456.789', 'v1.abc', 's3cr3t', 'u-42', 'dark', 'ab=b'])
      assert.ok(!text.includes(secret), `${secret} left in the HAR`);
    const out = JSON.parse(text);
    assert.equal(out.log.entries.length, 2);
    const e = out.log.entries[0];
    assert.equal(e.request.headers[0].value, 'text/html');
    assert.equal(e.request.headers[1].value, '_ga=; assent=; session=');
    assert.deepEqual(
      e.request.cookies.map((c: { name: string; value: string }) => [c.name, c.value]),
      [
        ['_ga', ''],
        ['session', ''],
      ],
    );
    assert.equal(e.response.headers[0].value, 'uid=; Path=/; Max-Age=31536000; HttpOnly\nab=; Path=/');
    assert.equal(e.response.headers[1].value, 'theme=');
    assert.deepEqual(
      [e.response.cookies[0].name, e.response.cookies[0].value, e.response.cookies[0].httpOnly],
      ['uid', '', true],
    );
  });

  it('cuts the before phase where its record was taken, without the values either', () => {
    const out = JSON.parse(harUntil(har, Date.parse('2026-12-01T10:00:01.000Z')).toString('utf8'));
    assert.equal(out.log.entries.length, 1);
    assert.equal(out.log.entries[0].request.cookies[0].value, '');
  });

  it('a HAR that cannot be read is left out, not kept with what it holds', () => {
    const out = JSON.parse(harUntil(Buffer.from('{"log": {"entries": [ … broken')).toString('utf8'));
    assert.deepEqual(out.log.entries, []);
    assert.match(out.log.comment, /could not be read/);
  });
});
