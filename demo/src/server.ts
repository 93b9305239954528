/**
 * `npm start`: the demo news site on http://127.0.0.1:3000/ (PORT and HOST to change).
 */
import { createServer } from 'node:http';
import { demoSite } from './site.js';

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';

/** Page views counted by the analytics stand-in: proof in the terminal that it ran. */
let beacons = 0;

const server = createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  if (req.method === 'POST' && path === '/demo/collect') {
    beacons++;
    res.writeHead(204).end();
    return;
  }
  const r = req.method === 'GET' || req.method === 'HEAD' ? demoSite(path) : undefined;
  if (!r) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
    return;
  }
  res.writeHead(r.status, r.headers).end(req.method === 'HEAD' ? undefined : r.body);
});

server.listen(port, host, () => {
  console.log(`The Daily Ledger (Assent demo) is running: open http://${host}:${port}/`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

export { beacons };
