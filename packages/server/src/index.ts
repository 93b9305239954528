/**
 * @assent/server — the receipt server: proof of consent, hash-chained and signed,
 * on SQLite or PostgreSQL.
 * @packageDocumentation
 */

export type { ApiError, ErrorCode } from './errors.js';
export type { ExportFormat } from './export.js';
export { exportChunks } from './export.js';
export type { PolicyVersion } from './policies.js';
export { PolicyRegistry, publishable } from './policies.js';
export { purgeExpired } from './retention.js';
export type { AssentServer, ServerOptions } from './server.js';
export { createServer } from './server.js';
export type { Signer } from './signer.js';
export { createSigner, generateKeys } from './signer.js';
export type { Role, User } from './store/admin-store.js';
export { isPostgresUrl, openStore } from './store/open.js';
export type { ExportFilter, StatRow, StatsBy, Store } from './store/types.js';
export { addUser } from './users.js';
export type { VerifyResult } from './verify.js';
export { verifyExport } from './verify.js';
