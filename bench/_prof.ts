import { createServer, publishable } from '../packages/server/src/index.js';
const ORIGIN = 'https://news.example';
const SITE = { policy: 'v3', categories: [{ id: 'analytics', services: [{ id: 'matomo' }] }, { id: 'marketing' }] };
const { app } = await createServer({ db: `sqlite:/tmp/prof/db-${Date.now()}.db`, sites: { [ORIGIN]: SITE } as any, logger: { level: 'warn' }, rateLimit: false, retention: false, ipSecret: 'bench', log: process.env.NOLOG ? false : undefined } as any);
await app.listen({ port: 4567, host: '127.0.0.1' });
console.log('READY');
setTimeout(() => process.exit(0), Number(process.env.T ?? 16000));
