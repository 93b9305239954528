/**
 * The SQLite store's check that its file is still the one it opened (store/sqlite-file.ts
 * FileWatch, and the writer thread before each commit), in one process: the file replaced by
 * another (a backup moved over it), or only its WAL deleted. `reliability/file-gone.test.ts`
 * deletes both under a real server under load.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createSigner } from '../src/signer.js';
import { openStore } from '../src/store/open.js';
import { SqliteThreadStore } from '../src/store/sqlite-thread-store.js';
import { newReceipt, tempDir } from './helpers.js';

const open = async () => {
  const file = join(tempDir(), 'receipts.db');
  const store = openStore(`sqlite:${file}`);
  assert.ok(store instanceof SqliteThreadStore);
  await store.migrate();
  const signer = createSigner(generateKeyPairSync('ed25519').privateKey);
  const append = () => store.append([newReceipt(signer.kid)], signer);
  assert.equal((await append()).length, 1);
  assert.equal(store.fileProblem(), null, 'the file is the one opened');
  return { file, store, append };
};

describe('the SQLite file replaced or its WAL deleted under the store', () => {
  it('a file moved over the database: writes refused (SQLITE_READONLY_DBMOVED), the old file and its WAL named', async () => {
    const { file, store, append } = await open();
    try {
      copyFileSync(file, `${file}.copy`);
      renameSync(`${file}.copy`, file);
      await assert.rejects(append(), { code: 'SQLITE_READONLY_DBMOVED', message: new RegExp(file) });
      await assert.rejects(store.probeWrite(new Date().toISOString()), { code: 'SQLITE_READONLY_DBMOVED' });
      const problem = store.fileProblem();
      assert.ok(problem);
      // The old file only through this process's descriptor; its WAL still at its path.
      assert.match(
        problem.message,
        new RegExp(`copy /proc/${process.pid}/fd/\\d+ \\(${file}\\) and ${file}-wal to a safe place`),
      );
    } finally {
      await store.close();
    }
  });

  it('the WAL deleted alone: writes refused, naming it', async () => {
    const { file, store, append } = await open();
    try {
      assert.ok(existsSync(`${file}-wal`));
      rmSync(`${file}-wal`);
      await assert.rejects(append(), { code: 'SQLITE_READONLY_DBMOVED', message: new RegExp(`${file}-wal`) });
      assert.match(
        store.fileProblem()?.message ?? '',
        new RegExp(`the database file ${file}-wal was deleted`),
      );
    } finally {
      await store.close();
    }
  });
});
