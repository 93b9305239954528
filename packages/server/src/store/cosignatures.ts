import type { Compilable, Kysely } from 'kysely';
import { cosignatureTime } from '../tlog/note.js';

interface CosignaturesTable {
  site: string;
  size: number;
  witness: string;
  line: string;
  at: string;
}

export interface CosignatureDatabase {
  tlog_cosignatures: CosignaturesTable;
}

/**
 * Witnesses' cosignatures of checkpoints (migration tlog_0002). Reads on the store's reading
 * connection; the write goes through `write`, which a SQLite file store runs on its writer
 * thread (the only connection that writes), like the admin console's.
 */
export class CosignatureStore {
  constructor(
    private readonly db: Kysely<CosignatureDatabase>,
    private readonly write: (q: Compilable) => Promise<number>,
  ) {}

  /**
   * Keeps a witness's cosignature (verified, of timestamp `time`) of a checkpoint, one per
   * witness name and checkpoint: a newer one replaces the one held, an older one never does. A
   * delayed or replayed request must not put back a statement the witness has since renewed.
   * Returns the line held afterwards: `line`, or the newer one that was kept.
   */
  async add(
    site: string,
    size: number,
    witness: string,
    line: string,
    time: number,
    at: string,
  ): Promise<string> {
    // A few rounds: each one lost means another request wrote this row meanwhile.
    for (let round = 0; round < 5; round++) {
      const held = await this.db
        .selectFrom('tlog_cosignatures')
        .select('line')
        .where('site', '=', site)
        .where('size', '=', size)
        .where('witness', '=', witness)
        .executeTakeFirst();
      if (held && (held.line === line || (cosignatureTime(held.line) ?? -1) >= time)) return held.line;
      // Written only if the row is still what was read: two requests racing each re-read.
      const changed = held
        ? await this.write(
            this.db
              .updateTable('tlog_cosignatures')
              .set({ line, at })
              .where('site', '=', site)
              .where('size', '=', size)
              .where('witness', '=', witness)
              .where('line', '=', held.line),
          )
        : await this.write(
            this.db
              .insertInto('tlog_cosignatures')
              .values({ site, size, witness, line, at })
              .onConflict((oc) => oc.columns(['site', 'size', 'witness']).doNothing()),
          );
      if (changed) return line;
    }
    throw new Error(`the cosignature of ${witness} for ${site}'s checkpoint ${size} kept changing`);
  }

  /**
   * The largest tree size of the site's checkpoints that a witness cosigned, among those of at
   * least `atLeast` leaves; null when none is.
   */
  async largestCosigned(site: string, atLeast: number): Promise<number | null> {
    const r = await this.db
      .selectFrom('tlog_cosignatures')
      .select((eb) => eb.fn.max('size').as('size'))
      .where('site', '=', site)
      .where('size', '>=', atLeast)
      .executeTakeFirst();
    return r?.size === null || r?.size === undefined ? null : Number(r.size);
  }

  /** The cosignature lines of the site's checkpoint of `size`, by witness name. */
  async of(site: string, size: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('tlog_cosignatures')
      .select('line')
      .where('site', '=', site)
      .where('size', '=', size)
      .orderBy('witness')
      .execute();
    return rows.map((r) => r.line);
  }
}
