import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { canonicalReceipt, type SignedReceipt } from '@assent/core';
import { type AssentServer, createServer, verifyExport } from '../src/index.js';
import { OTHER, receiptBody, SITES, tempDir } from './helpers.js';

const BIN = new URL('../bin/assent-server.js', import.meta.url).pathname;
const dir = tempDir();
const keys = generateKeyPairSync('ed25519');
let s: AssentServer;
let lines: string[];
let policyLines: string[];

before(async () => {
  s = await createServer({
    db: `sqlite:${join(dir, 'receipts.db')}`,
    sites: SITES,
    adminToken: 'tlog-test-admin-token',
    logger: false,
    signingKey: keys.privateKey,
    retention: false,
    rateLimit: false,
  });
  for (let i = 0; i < 20; i++) {
    const body = receiptBody(i % 4 === 3 ? { page: { origin: OTHER, path: '/' } } : {});
    const res = await s.app.inject({
      method: 'POST',
      url: '/v1/receipts',
      payload: body,
      headers: { origin: body.page.origin },
    });
    assert.equal(res.statusCode, 201);
  }
  const exp = await s.app.inject({
    url: '/v1/admin/receipts',
    headers: { authorization: 'Bearer tlog-test-admin-token' },
  });
  const all = exp.body.trim().split('\n');
  // The one policy both sites publish comes first, then the receipts.
  policyLines = all.slice(0, 1);
  assert.equal(JSON.parse(policyLines[0]!).type, 'policy');
  lines = all.slice(1);
  assert.equal(lines.length, 20);
});
let stopped = false;
after(() => (stopped ? undefined : s.close()));

const edit = (i: number, f: (r: Record<string, unknown>) => void) => {
  const copy = [...lines];
  const r = JSON.parse(copy[i]!) as Record<string, unknown>;
  f(r);
  copy[i] = JSON.stringify(r);
  return copy;
};
/** An export: the policy line, then receipt lines; line numbers below count the policy line. */
const exp = (receiptLines: string[]) => [...policyLines, ...receiptLines];

describe('verifying an export', () => {
  it('passes on the export as written', async () => {
    assert.deepEqual(await verifyExport(exp(lines), [keys.publicKey]), {
      ok: true,
      receipts: 20,
      purged: 0,
      sites: 2,
      partial: [],
      policies: 1,
      legacy: 0,
    });
  });

  it('names the first broken link when a receipt was altered', async () => {
    const r = await verifyExport(
      exp(edit(4, (x) => ((x.choices as Record<string, boolean>).marketing = true))),
      [keys.publicKey],
    );
    assert.equal(r.ok, false);
    assert.ok(!r.ok && r.line === 6 && /altered/.test(r.reason) && r.seq === 5);
  });

  it('fails when the altered receipt was re-hashed, because the signature no longer matches', async () => {
    const forged = edit(4, (x) => {
      (x.choices as Record<string, boolean>).marketing = true;
      x.hash = createHash('sha256')
        .update(canonicalReceipt(x as unknown as SignedReceipt))
        .digest('hex');
    });
    const r = await verifyExport(exp(forged), [keys.publicKey]);
    assert.ok(!r.ok && r.line === 6 && /signature/.test(r.reason), JSON.stringify(r));
  });

  it('fails when a receipt was deleted or the order changed', async () => {
    const deleted = lines.filter((_, i) => i !== 2);
    const r = await verifyExport(exp(deleted), [keys.publicKey]);
    assert.ok(!r.ok && r.line === 4 && /expected seq 3/.test(r.reason), JSON.stringify(r));
    const swapped = [...lines];
    [swapped[1], swapped[2]] = [swapped[2]!, swapped[1]!];
    assert.equal((await verifyExport(exp(swapped), [keys.publicKey])).ok, false);
  });

  it('fails when the seq was renumbered to hide a deletion: prev no longer matches', async () => {
    const hidden = lines.filter((_, i) => i !== 2);
    const r = await verifyExport(
      exp(
        hidden.map((l, i) => {
          if (i !== 2) return l;
          const x = JSON.parse(l);
          x.seq = 3;
          return JSON.stringify(x);
        }),
      ),
      [keys.publicKey],
    );
    assert.ok(!r.ok && r.line === 4, JSON.stringify(r));
  });

  it('fails with another public key, and on a line that is not JSON', async () => {
    const other = generateKeyPairSync('ed25519').publicKey;
    const r = await verifyExport(exp(lines), [other]);
    assert.ok(!r.ok && r.line === 2 && /not among the public keys/.test(r.reason));
    const junk = await verifyExport(exp([...lines.slice(0, 3), '{oops', ...lines.slice(3)]), [
      keys.publicKey,
    ]);
    assert.ok(!junk.ok && junk.line === 5 && junk.reason === 'not valid JSON');
  });

  it('takes a purged receipt as export writes it, and refuses one that carries anything more', async () => {
    const x = JSON.parse(lines[4]!) as Record<string, unknown>;
    const kept = {
      v: 1,
      id: x.id,
      site: x.site,
      seq: x.seq,
      at: x.at,
      prev: x.prev,
      kid: x.kid,
      hash: x.hash,
      sig: x.sig,
      purged: true,
    };
    const purged = [...lines];
    purged[4] = JSON.stringify(kept);
    const ok = await verifyExport(exp(purged), [keys.publicKey]);
    assert.ok(ok.ok && ok.purged === 1 && ok.receipts === 20, JSON.stringify(ok));
    // An altered receipt marked purged: its content is not hashed, so it must not be there.
    const forged = edit(4, (r) => {
      (r.choices as Record<string, boolean>).marketing = true;
      r.purged = true;
    });
    const r = await verifyExport(exp(forged), [keys.publicKey]);
    assert.ok(
      !r.ok && r.line === 6 && /purged receipt keeps only .*; this one has choices/.test(r.reason),
      JSON.stringify(r),
    );
    const falsy = [...lines];
    falsy[4] = JSON.stringify({ ...kept, purged: 'yes' });
    const f = await verifyExport(exp(falsy), [keys.publicKey]);
    assert.ok(!f.ok && f.line === 6 && /purged must be true/.test(f.reason), JSON.stringify(f));
  });

  it('says BROKEN at the line of a null, a number or an array, never a TypeError', async () => {
    for (const junk of ['null', '7', '[1]', '"text"']) {
      const r = await verifyExport(exp([...lines.slice(0, 2), junk, ...lines.slice(2)]), [keys.publicKey]);
      assert.ok(!r.ok && r.line === 4 && /not a JSON object/.test(r.reason), `${junk}: ${JSON.stringify(r)}`);
    }
  });

  it('fails when a policy was altered, or a receipt names a policy the export does not carry', async () => {
    const p = JSON.parse(policyLines[0]!);
    p.doc.config.days = 395;
    const altered = await verifyExport([JSON.stringify(p), ...lines], [keys.publicKey]);
    assert.ok(
      !altered.ok && altered.line === 1 && /policy .* was altered/.test(altered.reason),
      JSON.stringify(altered),
    );
    const missing = await verifyExport(lines, [keys.publicKey]);
    assert.ok(
      !missing.ok &&
        missing.line === 1 &&
        /names policy [0-9a-f]{64}, which the export does not carry/.test(missing.reason),
      JSON.stringify(missing),
    );
  });
});

describe('the assent-server CLI', () => {
  const pub = join(dir, 'pub.pem');
  before(() => writeFileSync(pub, keys.publicKey.export({ type: 'spki', format: 'pem' })));
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: dir });

  it('verify: ok on a good export, exit 1 naming the broken link on a tampered one', () => {
    writeFileSync(join(dir, 'good.ndjson'), `${exp(lines).join('\n')}\n`);
    const good = cli('verify', join(dir, 'good.ndjson'), '--public-key', pub);
    assert.equal(good.status, 0, good.stderr);
    assert.match(
      good.stdout,
      /^ok: 20 receipts \(0 purged\) in 2 site chain\(s\) verify, with the 1 policy they name/,
    );
    const bad = edit(6, (x) => (x.lang = 'fr'));
    writeFileSync(join(dir, 'bad.ndjson'), `${exp(bad).join('\n')}\n`);
    const r = cli('verify', join(dir, 'bad.ndjson'), '--public-key', pub);
    assert.equal(r.status, 1);
    const x = JSON.parse(lines[6]!);
    assert.equal(
      r.stdout.trim(),
      `BROKEN at line 8 (${x.site} seq ${x.seq}, receipt ${x.id}): the receipt was altered: its content does not match its hash`,
    );
  });

  it('verify: an empty export fails, extra files and bad keys are usage mistakes naming them', () => {
    const empty = join(dir, 'empty.ndjson');
    writeFileSync(empty, '');
    const e = cli('verify', empty, '--public-key', pub);
    assert.equal(e.status, 1, e.stdout);
    assert.equal(e.stdout.trim(), `FAILED: no receipts in ${empty}`);
    const policiesOnly = join(dir, 'policies.ndjson');
    writeFileSync(policiesOnly, `${policyLines.join('\n')}\n`);
    assert.equal(cli('verify', policiesOnly, '--public-key', pub).status, 1);
    const good = join(dir, 'good.ndjson');
    writeFileSync(good, `${exp(lines).join('\n')}\n`);
    const two = cli('verify', good, empty, '--public-key', pub);
    assert.equal(two.status, 2, two.stdout);
    assert.match(two.stderr, /unexpected argument ".*empty\.ndjson"/);
    const missing = cli('verify', join(dir, 'nope.ndjson'), '--public-key', pub);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /cannot read .*nope\.ndjson: ENOENT/);
    const noKeyFile = cli('verify', good, '--public-key', join(dir, 'nope.pem'));
    assert.equal(noKeyFile.status, 2);
    assert.match(noKeyFile.stderr, /--public-key: cannot read .*nope\.pem: ENOENT/);
    const rsa = join(dir, 'rsa.pub.pem');
    writeFileSync(
      rsa,
      generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }),
    );
    const notEd = cli('verify', good, '--public-key', rsa);
    assert.equal(notEd.status, 2);
    assert.match(notEd.stderr, /--public-key: .*rsa\.pub\.pem is not an Ed25519 key \(it is rsa\)/);
    const garbage = cli('verify-audit', good, '--public-key', good);
    assert.equal(garbage.status, 2);
    assert.match(garbage.stderr, /--public-key: .*good\.ndjson is not a PEM public key/);
    const audit = cli('verify-audit', empty, '--public-key', pub);
    assert.equal(audit.status, 1);
    assert.match(audit.stdout, /FAILED: no audit entries in /);
  });

  it('keygen, migrate and export work from the command line, and the export verifies', async () => {
    // The server holds its SQLite file exclusively (store/sqlite-file.ts): the CLI opens it once
    // the server has stopped, as an operator would.
    await s.close();
    stopped = true;
    const data = join(dir, 'data');
    const k = cli('keygen', '--data-dir', data);
    assert.equal(k.status, 0, k.stderr);
    assert.match(readFileSync(join(data, 'signing-key.pub.pem'), 'utf8'), /BEGIN PUBLIC KEY/);
    const db = `sqlite:${join(dir, 'receipts.db')}`;
    const m = cli('migrate', '--db', db);
    assert.equal(m.stdout.trim(), 'up to date');
    const out = join(dir, 'cli-export.ndjson');
    const e = cli('export', '--db', db, '--out', out);
    assert.equal(e.status, 0, e.stderr);
    assert.equal(readFileSync(out, 'utf8').trim().split('\n').length, 21);
    const v = cli('verify', out, '--public-key', pub);
    assert.equal(v.status, 0, v.stdout);
  });
});
