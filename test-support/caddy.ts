/**
 * A real Caddy in front of a site and a receipt server, running the deployment recipe
 * deploy/caddy/Caddyfile as it is, with loopback addresses in place of its names:
 * `example.com` becomes `http://127.0.0.1:<free port>` (no TLS on loopback), the server's
 * 127.0.0.1:8787 and the site's 127.0.0.1:3000 become the test's ports. Its admin API is off and
 * its state lives in a temp dir, so it never touches a system Caddy. Installed by
 * scripts/install-proxies.sh.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { canConnect, freePort } from './ports.js';
import type { Proxy as ReverseProxy } from './proxy.js';

export const CADDY = '/usr/bin/caddy';
export const CADDYFILE = join(import.meta.dirname, '../deploy/caddy/Caddyfile');

/** The recipe with the test's addresses; every substitution must apply (the recipe changed?). */
export const caddyConfig = (opts: { port: number; sitePort: number; assentPort: number }) => {
  let text = readFileSync(CADDYFILE, 'utf8');
  for (const [from, to] of [
    ['example.com {', `http://127.0.0.1:${opts.port} {`],
    ['reverse_proxy 127.0.0.1:8787', `reverse_proxy 127.0.0.1:${opts.assentPort}`],
    ['reverse_proxy 127.0.0.1:3000', `reverse_proxy 127.0.0.1:${opts.sitePort}`],
  ] as const) {
    if (!text.includes(from)) throw new Error(`deploy/caddy/Caddyfile no longer has "${from}"`);
    text = text.replace(from, to);
  }
  return `{\n\tadmin off\n\tauto_https off\n}\n\n${text}`;
};

/** Starts the recipe on 127.0.0.1 and a free port; throws with Caddy's output if it cannot. */
export const startCaddy = async (opts: { sitePort: number; assentPort: number }): Promise<ReverseProxy> => {
  if (!existsSync(CADDY)) throw new Error(`${CADDY} is missing: run \`bash scripts/install-proxies.sh\``);
  const dir = mkdtempSync(join(tmpdir(), 'assent-caddy-'));
  const port = await freePort();
  const conf = join(dir, 'Caddyfile');
  writeFileSync(conf, caddyConfig({ port, ...opts }));
  const child = spawn(CADDY, ['run', '--config', conf, '--adapter', 'caddyfile'], {
    env: { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  const onExit = () => child.kill('SIGKILL');
  process.once('exit', onExit);
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`caddy exited early (code ${child.exitCode}):\n${output}`);
    }
    if (await canConnect(port)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`caddy did not answer within 15 s:\n${output}`);
    }
    await sleep(25);
  }
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      process.removeListener('exit', onExit);
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, sleep(5_000).then(() => child.kill('SIGKILL'))]);
      }
      rmSync(dir, { recursive: true, force: true });
    })());
  return { url: `http://127.0.0.1:${port}/`, port, close };
};
