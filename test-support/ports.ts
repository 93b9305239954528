import { connect, createServer } from 'node:net';

/**
 * A port free on 127.0.0.1 right now, for a server that must know its own URL before it
 * listens (the demo's site origin, a child process's --port). Tests, benches and the
 * demo's test share this one helper.
 */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no free port'))));
    });
  });

/** Whether something accepts connections on 127.0.0.1:`port` now (a server under test is up). */
export const canConnect = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
