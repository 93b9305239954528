/**
 * The SQLite file reached through a symlink (a data directory on a mounted volume,
 * `/var/lib/assent → /mnt/volume/assent`): SQLite names it by its resolved path, which the
 * check for a URI taken as a file name once mistook for a stray file, and deleted — the live
 * database, receipts and all, even under a running server.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createServer } from '../src/index.js';
import { openSqliteFile } from '../src/store/sqlite-file.js';
import { ORIGIN, receiptBody, SITES, tempDir } from './helpers.js';

describe('a SQLite file through a symlink', () => {
  it('openSqliteFile opens it and deletes nothing', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'real'));
    symlinkSync(join(dir, 'real'), join(dir, 'linked'));
    const first = openSqliteFile(join(dir, 'real', 'x.db'));
    first.exec('CREATE TABLE t (v TEXT); INSERT INTO t VALUES (1)');
    first.close();
    const db = openSqliteFile(join(dir, 'linked', 'x.db'));
    assert.deepEqual(db.prepare('SELECT v FROM t').all(), [{ v: '1' }]);
    db.close();
    assert.ok(existsSync(join(dir, 'real', 'x.db')), 'the real file is still there');
  });

  it('a server started on a symlinked data directory keeps its receipts across restarts', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'volume'));
    symlinkSync(join(dir, 'volume'), join(dir, 'data'));
    const db = `sqlite:${join(dir, 'data', 'receipts.db')}`;
    const body = receiptBody();
    const s = await createServer({ db, sites: SITES, logger: false, log: false, retention: false });
    const r = await s.app.inject({
      method: 'POST',
      url: '/v1/receipts',
      headers: { origin: ORIGIN },
      payload: body,
    });
    assert.equal(r.statusCode, 201, r.body);
    await s.close();
    const again = await createServer({ db, sites: SITES, logger: false, log: false, retention: false });
    try {
      const h = await again.app.inject({ method: 'GET', url: `/v1/consents/${body.consentId}` });
      assert.equal(h.statusCode, 200, h.body);
      assert.ok(existsSync(join(dir, 'volume', 'receipts.db')));
    } finally {
      await again.close();
    }
  });
});
