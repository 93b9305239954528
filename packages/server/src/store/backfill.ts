import type { Kysely } from 'kysely';
import { commitment, newSalt } from '../tlog/commitment.js';

/** Receipts read and updated per round trip. */
const PAGE = 1000;

/**
 * Gives every receipt stored before the consent log its leaf, in chain order: leaf = seq − 1,
 * a new salt, the commitment to its canonical JSON (`body`, which the chain's hash covers
 * too). A receipt already purged has no body left to commit to: its leaf commits to its
 * chain hash under a salt that is thrown away, so it is as unlinkable as a purged receipt's
 * leaf is. Run once, inside migration tlog_0001, on either database.
 */
export const backfillLeaves = async (untyped: Kysely<unknown>): Promise<void> => {
  // biome-ignore lint/suspicious/noExplicitAny: the migration's tables are not the app's types yet.
  const db = untyped as Kysely<any>;
  const heads = (await db.selectFrom('chain_heads').select(['site', 'seq']).execute()) as {
    site: string;
    seq: number | string;
  }[];
  for (const head of heads) {
    let after = 0;
    for (;;) {
      const rows = (await db
        .selectFrom('receipts')
        .select(['id', 'seq', 'body', 'hash'])
        .where('site', '=', head.site)
        .where('seq', '>', after)
        .orderBy('seq')
        .limit(PAGE)
        .execute()) as { id: string; seq: number | string; body: string | null; hash: string }[];
      if (!rows.length) break;
      const leaves = [];
      for (const r of rows) {
        const seq = Number(r.seq);
        const salt = newSalt();
        const data = r.body === null ? commitment(salt, r.hash) : commitment(salt, r.body);
        await db
          .updateTable('receipts')
          .set({ salt: r.body === null ? null : salt, leaf: seq - 1 })
          .where('id', '=', r.id)
          .execute();
        leaves.push({ site: head.site, idx: seq - 1, data, entry: null });
      }
      await db.insertInto('tlog_leaves').values(leaves).execute();
      after = Number(rows[rows.length - 1]!.seq);
    }
    await db
      .updateTable('chain_heads')
      .set({ leaves: Number(head.seq) })
      .where('site', '=', head.site)
      .execute();
  }
};
