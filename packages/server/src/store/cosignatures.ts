import type { Compilable, Kysely } from 'kysely';

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

  /** Keeps a witness's cosignature of a checkpoint; a later one of the same size replaces it. */
  async add(site: string, size: number, witness: string, line: string, at: string): Promise<void> {
    await this.write(
      this.db
        .insertInto('tlog_cosignatures')
        .values({ site, size, witness, line, at })
        .onConflict((oc) => oc.columns(['site', 'size', 'witness']).doUpdateSet({ line, at })),
    );
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
