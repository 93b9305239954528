import { PG_INT_MAX } from '../store/types.js';

/**
 * The largest tree size (and leaf index) the log takes, from a request or from a checkpoint's
 * text: 2^31 − 1, the largest PostgreSQL `integer`, the type of the log's size and index
 * columns (`tlog_checkpoints.size`, `tlog_cosignatures.size`, `tlog_leaves.idx`,
 * `tlog_nodes.idx`: store/migrations.ts). A larger number used to reach the database and fail
 * there: a 500 on PostgreSQL (a 404 on SQLite, whose integers are 64-bit). A log would need
 * wider columns (a migration) before this could grow.
 */
export const MAX_TREE_SIZE = PG_INT_MAX;

/**
 * A tree size written in decimal as a checkpoint writes it (no sign, no leading zero) and at
 * most MAX_TREE_SIZE; null otherwise. Ten digits are enough for MAX_TREE_SIZE, so longer text
 * is refused before it becomes an imprecise float.
 */
export const parseTreeSize = (text: string): number | null =>
  /^(0|[1-9][0-9]{0,9})$/.test(text) && Number(text) <= MAX_TREE_SIZE ? Number(text) : null;

/**
 * How far ahead of the log's clock a cosignature's timestamp may be (seconds). A witness's
 * clock may drift a little; a cosignature dated hours ahead would, once stored, outrank every
 * honest later one from the same witness (the newest is kept: store/cosignatures.ts).
 */
export const COSIGNATURE_MAX_AHEAD_S = 600;
