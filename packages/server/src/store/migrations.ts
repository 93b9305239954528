import { MODES } from '@assent/core';
import { type Kysely, type Migration, type MigrationProvider, sql } from 'kysely';
import { backfillLeaves } from './backfill.js';

/**
 * Versioned migrations, in code so they ship with the package. Never edit one that has
 * shipped: add the next number of its series (`0001_…` the receipts, `admin_…` the console,
 * `tlog_…` the log). A fresh database runs them in name order; an older one runs the ones it
 * lacks, in name order, after those it has (kysely-store.ts allows that), so a migration may
 * depend only on its own series and on `0001_…`–`0003_…`. Column types are the portable subset of SQLite and PostgreSQL.
 */
const migrations: Record<string, Migration> = {
  '0001_receipts': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('receipts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('site', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('consent_id', 'text')
        .addColumn('method', 'text')
        .addColumn('region', 'text')
        .addColumn('granted', 'text')
        .addColumn('accepted', 'integer')
        .addColumn('body', 'text')
        .addColumn('prev', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('sig', 'text', (c) => c.notNull())
        .addColumn('kid', 'text', (c) => c.notNull())
        .addColumn('purged_at', 'text')
        // The last line of defence for the chain: two writers can never both take seq N.
        .addUniqueConstraint('receipts_site_seq', ['site', 'seq'])
        .execute();
      await db.schema.createIndex('receipts_consent').on('receipts').column('consent_id').execute();
      await db.schema.createIndex('receipts_at').on('receipts').column('at').execute();
      await db.schema.createIndex('receipts_expires').on('receipts').column('expires_at').execute();
      await db.schema
        .createTable('chain_heads')
        .addColumn('site', 'text', (c) => c.primaryKey())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('salts')
        .addColumn('day', 'text', (c) => c.primaryKey())
        .addColumn('salt', 'text', (c) => c.notNull())
        .execute();
    },
  },
  /**
   * The policy registry: every policy the server ever published, by SHA-256 (never deleted:
   * receipts name them), the order in which each site published them, and on each receipt
   * the policy it names (for the export's list of policies and for "is it still referenced").
   */
  '0002_policies': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('policies')
        .addColumn('sha256', 'text', (c) => c.primaryKey())
        .addColumn('doc', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('publications')
        .addColumn('site', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('publications_pk', ['site', 'seq'])
        .execute();
      await db.schema.alterTable('receipts').addColumn('policy', 'text').execute();
      await db.schema.createIndex('receipts_policy').on('receipts').column('policy').execute();
    },
  },
  /**
   * A consent's history is read a page at a time, newest first: (consent_id, at, id) gives
   * the count and any page from the index alone, where the index on consent_id alone made
   * every read fetch and sort all of a consent's rows (5,000 receipts: 5,000 bodies per page).
   * It replaces that index (one index per insert, as before). `probes` is the row readiness
   * writes to find out whether writes succeed again after they failed (disk full, read-only).
   */
  '0003_history_probes': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createIndex('receipts_consent_at')
        .on('receipts')
        .columns(['consent_id', 'at', 'id'])
        .execute();
      await db.schema.dropIndex('receipts_consent').execute();
      await db.schema
        .createTable('probes')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  /**
   * The console counts consents by their latest choice (issue 17): `consent_latest` holds each
   * consent's latest receipt, kept by every append (statements.ts upsertLatest), so the
   * overview of a million receipts reads one row per consent instead of asking, for every
   * receipt, whether a later one exists (10 s per chart at 1,000,000 receipts on SQLite).
   * `receipts.mode` is the receipt's mode as a column (it was read from the body with LIKE).
   * Both are filled from the receipts already stored.
   */
  '0004_consent_latest': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('receipts').addColumn('mode', 'text').execute();
      // The canonical body has `"mode":"…"` between `method` and `page` (canonical.ts).
      await sql`update receipts set mode = case ${sql.join(
        MODES.map((m) => sql`when body like ${sql.lit(`%,"mode":"${m}","page":%`)} then ${sql.lit(m)}`),
        sql` `,
      )} end where body is not null`.execute(db);
      // The console's receipts table of one site, newest first, is a seek on this index; with
      // (at) alone SQLite read all of the site's rows through (site, seq) and sorted them
      // (1.8 s per page at 1,000,000 receipts). `method` and `accepted` make it cover the
      // receipts counted by method over a range (stats), which read every row before (1.9 s).
      await db.schema
        .createIndex('receipts_site_at')
        .on('receipts')
        .columns(['site', 'at', 'id', 'method', 'accepted'])
        .execute();
      await db.schema
        .createTable('consent_latest')
        .addColumn('consent_id', 'text', (c) => c.primaryKey())
        .addColumn('site', 'text', (c) => c.notNull())
        .addColumn('receipt_id', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('day', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('method', 'text')
        .addColumn('region', 'text')
        .addColumn('mode', 'text')
        .addColumn('granted', 'text')
        .execute();
      // Covering, in the overview's GROUP BY order: a site's groups are read off the index in
      // order, without reading the table or sorting (0.2 s for 700,000 consents, where
      // grouping on (site, at) sorted them in 1.8 s).
      await db.schema
        .createIndex('consent_latest_groups')
        .on('consent_latest')
        .columns(['site', 'day', 'region', 'mode', 'method', 'granted', 'at'])
        .execute();
      await db.schema
        .createIndex('consent_latest_expires')
        .on('consent_latest')
        .column('expires_at')
        .execute();
      await sql`insert into consent_latest (consent_id, site, receipt_id, at, day, expires_at, method, region, mode, granted)
        select r.consent_id, r.site, r.id, r.at, substr(r.at, 1, 10), r.expires_at, r.method, r.region, r.mode, r.granted
        from receipts r
        where r.body is not null and r.consent_id is not null and not exists (
          select 1 from receipts n where n.consent_id = r.consent_id and (n.at, n.id) > (r.at, r.id)
        )`.execute(db);
    },
  },
  /**
   * One order for "a consent's latest receipt", the same in every store and query: by `at`,
   * then by the chain's `seq` (the order the server committed them), within one site.
   * `consent_latest` was keyed by the consent ID alone and ordered ties by receipt ID (random
   * within a millisecond): an acceptance and a withdrawal in one millisecond came out in either
   * order, differently on SQLite and PostgreSQL, and one consent ID on two sites (apex and www
   * sharing the cookie) was counted on one of them only. Rebuilt keyed by (site, consent ID),
   * with the receipt's `seq`, from the receipts.
   */
  '0005_latest_by_site': {
    async up(db: Kysely<unknown>) {
      // ifExists: SQLite runs DDL outside a transaction; a crash after the drop must not leave
      // a database this migration cannot finish.
      await db.schema.dropTable('consent_latest').ifExists().execute();
      await db.schema
        .createTable('consent_latest')
        .addColumn('site', 'text', (c) => c.notNull())
        .addColumn('consent_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('receipt_id', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('day', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('method', 'text')
        .addColumn('region', 'text')
        .addColumn('mode', 'text')
        .addColumn('granted', 'text')
        .addPrimaryKeyConstraint('consent_latest_pk', ['site', 'consent_id'])
        .execute();
      // As 0004's: covering, in the overview's GROUP BY order.
      await db.schema
        .createIndex('consent_latest_groups')
        .on('consent_latest')
        .columns(['site', 'day', 'region', 'mode', 'method', 'granted', 'at'])
        .execute();
      await db.schema
        .createIndex('consent_latest_expires')
        .on('consent_latest')
        .column('expires_at')
        .execute();
      await sql`insert into consent_latest (site, consent_id, seq, receipt_id, at, day, expires_at, method, region, mode, granted)
        select r.site, r.consent_id, r.seq, r.id, r.at, substr(r.at, 1, 10), r.expires_at, r.method, r.region, r.mode, r.granted
        from receipts r
        where r.body is not null and r.consent_id is not null and not exists (
          select 1 from receipts n where n.consent_id = r.consent_id and n.site = r.site and (n.at, n.seq) > (r.at, r.seq)
        )`.execute(db);
    },
  },
  /**
   * A consent's latest receipt on a site is the last of the site's chain (`seq`), not the one
   * with the latest `at` (statements.ts upsertLatest): a withdrawal taken after the server's
   * clock stepped back (an NTP step, a VM snapshot restored, two processes on one PostgreSQL
   * with different clocks) was stored, but the acceptance before it stayed the consent's
   * latest for the overview until the clock passed it again. Two statements bring
   * `consent_latest` to what 0005's rebuild by that rule would give, writing only what
   * differs: each row with a later receipt in its site's chain names that site's last one,
   * and each (site, consent) with receipts but no row (retention dropped it for an older
   * choice that expired; or any other, until the next purge, a second after start, drops it
   * again) gets one. Each later receipt is asked of the consent ID's index, the site compared
   * as `site || ''` (as a plain column SQLite walks the site's chain through (site, seq)).
   * At 1,000,000 receipts (705,000 consents): about 7 s of CPU on SQLite and 12 s on PostgreSQL
   * when no row is wrong, 15 s and 23 s with 300,000 wrong; rewriting every row, as 0005 did,
   * took 12–17 s of CPU on SQLite whatever was wrong.
   */
  '0006_latest_by_seq': {
    async up(db: Kysely<unknown>) {
      await sql`update consent_latest set (seq, receipt_id, at, day, expires_at, method, region, mode, granted) = (
          select r.seq, r.id, r.at, substr(r.at, 1, 10), r.expires_at, r.method, r.region, r.mode, r.granted
          from receipts r
          where r.consent_id = consent_latest.consent_id and r.site || '' = consent_latest.site
          order by r.seq desc
          limit 1
        )
        where exists (
          select 1 from receipts n
          where n.consent_id = consent_latest.consent_id and n.site || '' = consent_latest.site and n.seq > consent_latest.seq
        )`.execute(db);
      await sql`insert into consent_latest (site, consent_id, seq, receipt_id, at, day, expires_at, method, region, mode, granted)
        select r.site, r.consent_id, r.seq, r.id, r.at, substr(r.at, 1, 10), r.expires_at, r.method, r.region, r.mode, r.granted
        from receipts r
        where r.body is not null and r.consent_id is not null
          and not exists (select 1 from consent_latest l where l.site = r.site and l.consent_id = r.consent_id)
          and not exists (select 1 from receipts n where n.consent_id = r.consent_id and n.site || '' = r.site and n.seq > r.seq)`.execute(
        db,
      );
    },
  },
  /**
   * The consent log (issue 18): an RFC 9162 Merkle tree per site beside the hash chain. Each
   * receipt gets a leaf: `salt` (32 random bytes, hex; purged with the payload, so the leaf
   * becomes unlinkable) and `leaf`, its index in the site's tree; `tlog_leaves` holds each
   * leaf's data (the commitment SHA-256(salt ‖ canonical JSON)), `chain_heads.leaves` the
   * tree's size (moved under the same row lock as the chain). `tlog_nodes` keeps every
   * complete perfect subtree's hash above the leaves (a leaf's is H(0x00 ‖ data) of its
   * tlog_leaves row), so any proof is O(log n) lookups; `tlog_checkpoints` the
   * signed checkpoints. Receipts stored before it get their leaves here (see backfill.ts).
   */
  tlog_0001_leaves: {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('receipts').addColumn('salt', 'text').execute();
      await db.schema.alterTable('receipts').addColumn('leaf', 'integer').execute();
      await db.schema
        .alterTable('chain_heads')
        .addColumn('leaves', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createTable('tlog_leaves')
        .addColumn('site', 'text', (c) => c.notNull())
        .addColumn('idx', 'integer', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        // The entry itself when it is public (a policy, a banner build); null for a receipt.
        .addColumn('entry', 'text')
        .addPrimaryKeyConstraint('tlog_leaves_pk', ['site', 'idx'])
        .execute();
      await db.schema
        .createTable('tlog_nodes')
        .addColumn('site', 'text', (c) => c.notNull())
        .addColumn('level', 'integer', (c) => c.notNull())
        .addColumn('idx', 'integer', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('tlog_nodes_pk', ['site', 'level', 'idx'])
        .execute();
      await db.schema
        .createTable('tlog_checkpoints')
        .addColumn('site', 'text', (c) => c.notNull())
        .addColumn('size', 'integer', (c) => c.notNull())
        .addColumn('root', 'text', (c) => c.notNull())
        .addColumn('note', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('tlog_checkpoints_pk', ['site', 'size'])
        .execute();
      await backfillLeaves(db);
    },
  },
  /**
   * The admin console's people (store/admin-store.ts): users with a role and a scrypt hash,
   * and their sessions, stored by the SHA-256 of the cookie's token.
   */
  admin_0001_users: {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('email', 'text', (c) => c.notNull().unique())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('password', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();
    },
  },
  /**
   * The admin audit log (audit.ts): one row per admin action, hash-chained and signed; the
   * primary key on seq keeps the chain from forking when two processes append at once.
   */
  admin_0002_audit: {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('audit_log')
        .addColumn('seq', 'integer', (c) => c.primaryKey())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('role', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target', 'text')
        .addColumn('detail', 'text', (c) => c.notNull())
        .addColumn('prev', 'text', (c) => c.notNull())
        .addColumn('kid', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('sig', 'text', (c) => c.notNull())
        .execute();
    },
  },
  /**
   * Webhooks (webhooks/): each one's durable cursor over its site's hash chain (`cursor`, the
   * last `seq` a receiver acknowledged with a 2xx), its retry state, and a lease (`lease_owner`
   * until `lease_until`) so that of several server processes on one PostgreSQL only one
   * delivers a webhook's next batch; `webhook_deliveries` logs every attempt (never a
   * receipt's consent ID or any IP: the receipts' seq range, the status or error, the time).
   */
  admin_0003_webhooks: {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('webhooks')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('site', 'text', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('events', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('cursor', 'integer', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_at', 'text')
        .addColumn('last_error', 'text')
        .addColumn('lease_owner', 'text')
        .addColumn('lease_until', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('webhook_deliveries')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('webhook_id', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('first_seq', 'integer')
        .addColumn('last_seq', 'integer')
        .addColumn('events', 'integer', (c) => c.notNull())
        .addColumn('status', 'integer')
        .addColumn('error', 'text')
        .addColumn('duration_ms', 'integer', (c) => c.notNull())
        .addColumn('outcome', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('webhook_deliveries_hook_at')
        .on('webhook_deliveries')
        .columns(['webhook_id', 'at', 'id'])
        .execute();
    },
  },
  /**
   * Witnesses' cosignatures of the log's checkpoints (C2SP tlog-cosignature; tlog/note.ts),
   * published beside the checkpoint they sign: one line per (site, tree size, witness).
   */
  tlog_0002_cosignatures: {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('tlog_cosignatures')
        .addColumn('site', 'text', (c) => c.notNull())
        .addColumn('size', 'integer', (c) => c.notNull())
        .addColumn('witness', 'text', (c) => c.notNull())
        .addColumn('line', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('tlog_cosignatures_pk', ['site', 'size', 'witness'])
        .execute();
    },
  },
  /**
   * The consent log's public entries (policies, banner builds) by their own index: a partial
   * index of the few leaves that carry an entry, so listing them never walks the receipts'
   * leaves (kysely-store.ts entriesQuery). Same SQL on SQLite and PostgreSQL.
   */
  tlog_0003_entries: {
    async up(db: Kysely<unknown>) {
      await sql`create index tlog_leaves_entries on tlog_leaves (site, idx) where entry is not null`.execute(
        db,
      );
    },
  },
  /**
   * Site scoping (issue 17, sites): the sites a user may see, as a JSON array of origins;
   * NULL (every user before this) means every site. Owners always have every site.
   */
  admin_0004_user_sites: {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('users').addColumn('sites', 'text').execute();
    },
  },
  /**
   * Erasures reach webhook receivers (GDPR Art. 19): each webhook's second cursor, over the
   * audit log's `consent-erase` entries of its site (the last audit `seq` its receiver
   * acknowledged), and an index that finds them. Existing webhooks get the event and start at
   * the log's head: the erasures before this version are the owner's to have told.
   */
  admin_0005_webhook_erasures: {
    async up(db: Kysely<unknown>) {
      await db.schema
        .alterTable('webhooks')
        .addColumn('erase_cursor', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await sql`update webhooks set erase_cursor = coalesce((select max(seq) from audit_log), 0)`.execute(db);
      // Every webhook so far got receipts (each names its consent ID): Art. 19 has it told of
      // their erasure, so each gets the new event; PATCH …/webhooks/:id {events} changes that.
      await sql`update webhooks set events = events || ',consent.erased'`.execute(db);
      // The dispatcher looks for a site's erasures after a cursor every poll: a key range, not
      // a walk over every sign-in and export logged since the last erasure.
      await db.schema
        .createIndex('audit_log_action')
        .on('audit_log')
        .columns(['action', 'target', 'seq'])
        .execute();
    },
  },
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
