/**
 * A real reverse proxy for "same-origin deployment" tests: a private Debian nginx on 127.0.0.1 that
 * serves `/assent/…` from the receipt server (prefix stripped) and everything else from the site's
 * own server, so both live under one public origin. `scripts/install-proxies.sh` installs nginx;
 * each `startProxy()` runs its own instance from a temp prefix dir and never touches the system one.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { canConnect, freePort } from './ports.js';

export const NGINX = '/usr/sbin/nginx';
/** The nginx recipe for the receipt server under /assent/, included by every test proxy. */
export const RECIPE = join(import.meta.dirname, '../deploy/nginx/assent.conf');

export interface Proxy {
  /** The public origin with a trailing slash, e.g. `http://127.0.0.1:41234/`. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** A running test nginx: a {@link Proxy}, and where its access log is. */
export interface Nginx extends Proxy {
  /**
   * Its access log: nginx's default (`combined`: address, request line, Referer) for every
   * request, as Debian's nginx.conf keeps one, except where the recipe turns it off. Gone
   * after `close()`.
   */
  accessLog: string;
}

/**
 * The whole nginx.conf of one test proxy. `dir` is its prefix dir: pid, logs and temp files all
 * stay in it, so the instance needs nothing from /etc/nginx, /var/log or /var/lib.
 */
export const nginxConfig = (opts: { port: number; sitePort: number; assentPort: number; dir: string }) => {
  const { port, sitePort, assentPort, dir } = opts;
  return `# Written by test-support/proxy.ts. Started as: nginx -p ${dir} -c ${dir}/nginx.conf -g 'daemon off;'
# One worker is plenty for tests; master_process stays on (the default) like in production.
worker_processes 1;
# Our own pid file, not /run/nginx.pid of the system service.
pid ${dir}/nginx.pid;
# Startup and proxy errors (e.g. "connect() failed" on a 502) end up here; startProxy() shows them.
error_log ${dir}/error.log warn;

events {
  worker_connections 256;
}

http {
  # An access log for every request, as a production nginx keeps one (Debian's nginx.conf logs
  # every request in the combined format): the recipe must turn it off for /assent/ itself, and
  # deploy/test/nginx.test.ts checks that what reaches Assent is in no line of it.
  access_log ${dir}/access.log;
  # Debian's compiled-in temp paths live in /var/lib/nginx; keep every temp file in our dir.
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;

  # Keep-alive to the upstreams and chunked bodies need HTTP/1.1 (nginx speaks 1.0 by default).
  proxy_http_version 1.1;
  # The public Host (with its port) reaches both servers: the site builds absolute URLs from it,
  # and the receipt server (with trustProxy) sees the origin the browser used.
  proxy_set_header Host $http_host;
  # Who the client was, and over which scheme and host it came: what a trustProxy server believes.
  proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
  proxy_set_header X-Forwarded-Proto $scheme;
  proxy_set_header X-Forwarded-Host $http_host;
  # Pass responses through as they are produced (no buffering or temp files between upstream and
  # client), so what a test sees is exactly what the upstream sent, when it sent it.
  proxy_buffering off;
  # Fail fast instead of hanging a test when an upstream is down (nginx answers 502).
  proxy_connect_timeout 5s;

  # Where the recipe's location sends /assent/ (an operator's http block declares the same).
  upstream assent_server {
    server 127.0.0.1:${assentPort};
    keepalive 8;
  }

  server {
    listen 127.0.0.1:${port};
    server_name _;

    # The receipt server under the site's origin: the recipe operators install, as it is
    # (deploy/nginx/assent.conf). (A bare /assent is answered by nginx with a 301 to /assent/.)
    include ${RECIPE};

    # Everything else is the site's own server. No URI on proxy_pass: the request URI goes
    # through unchanged.
    location / {
      proxy_pass http://127.0.0.1:${sitePort};
    }
  }
}
`;
};

/** Pids of the direct children of `pid` (nginx's workers), read from /proc. */
const childrenOf = (pid: number): number[] => {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      // Field 4 (ppid) follows the ")" closing the command name, which may itself contain spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(e));
    } catch {
      // The process went away meanwhile.
    }
  }
  return out;
};

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

const waitExit = (child: ChildProcess, ms: number) =>
  exited(child)
    ? Promise.resolve(true)
    : new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), ms);
        child.once('exit', () => {
          clearTimeout(t);
          resolve(true);
        });
      });

/** Stops an nginx master and its workers: SIGQUIT (graceful), then SIGKILL for all after 3 s. */
const stop = async (child: ChildProcess) => {
  if (exited(child) || child.pid === undefined) return;
  const workers = childrenOf(child.pid!);
  child.kill('SIGQUIT'); // graceful shutdown: finish open requests, then exit
  if (await waitExit(child, 3_000)) return;
  // Workers don't notice a killed master and would keep the port: kill them too.
  for (const w of new Set([...workers, ...childrenOf(child.pid!)])) {
    try {
      process.kill(w, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  child.kill('SIGKILL');
  await waitExit(child, 3_000);
};

/** One attempt on one port; `retry` is true when the port was taken meanwhile. */
const attempt = async (
  dir: string,
  opts: { sitePort: number; assentPort: number },
): Promise<Nginx | { retry: boolean; error: Error }> => {
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  const errorLog = join(dir, 'error.log');
  const pidFile = join(dir, 'nginx.pid');
  rmSync(errorLog, { force: true });
  rmSync(pidFile, { force: true });
  writeFileSync(conf, nginxConfig({ port, dir, ...opts }));
  // -e: errors before the config is read go to our log too (Debian's default is stderr).
  const child = spawn(NGINX, ['-p', dir, '-c', conf, '-e', errorLog, '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // A test that forgets close() must not hang the runner, nor leave nginx behind on exit.
  child.unref();
  (child.stderr as unknown as { unref(): void }).unref();
  let spawnError: Error | undefined;
  child.once('error', (e) => (spawnError = e));
  const onExit = () => {
    if (!exited(child)) child.kill('SIGTERM'); // fast shutdown: the master stops its workers
  };
  process.once('exit', onExit);

  const failure = async (what: string) => {
    process.removeListener('exit', onExit);
    await stop(child);
    const log = existsSync(errorLog) ? readFileSync(errorLog, 'utf8') : '';
    // nginx repeats its startup errors on stderr; show that only when the log has nothing.
    const details = log.trim() || stderr.trim();
    return {
      retry: /Address already in use/.test(details),
      error: new Error(`nginx ${what} (port ${port}, dir ${dir})${details ? `:\n${details}` : ''}`),
    };
  };

  // Ready = our master wrote its pid (so it bound the port: nginx binds before writing the pid)
  // and the port accepts connections. An early exit is a failure, with the error log attached.
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (spawnError) return failure(`could not be started: ${spawnError.message}`);
    if (exited(child)) return failure(`exited early (code ${child.exitCode ?? child.signalCode})`);
    if (existsSync(pidFile) && (await canConnect(port))) break;
    if (Date.now() > deadline) return failure('did not answer within 10 s');
    await sleep(25);
  }

  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      process.removeListener('exit', onExit);
      await stop(child);
      rmSync(dir, { recursive: true, force: true });
    })());
  return { url: `http://127.0.0.1:${port}/`, port, accessLog: join(dir, 'access.log'), close };
};

/**
 * Starts a private nginx on 127.0.0.1 and a free port: `/assent/…` → the receipt server on
 * `assentPort` with the `/assent` prefix stripped, everything else → the site on `sitePort`.
 * Throws, with nginx's error log, when nginx is missing or exits early.
 */
export const startProxy = async (opts: { sitePort: number; assentPort: number }): Promise<Nginx> => {
  if (!existsSync(NGINX)) throw new Error(`${NGINX} is missing: run \`bash scripts/install-proxies.sh\``);
  const dir = mkdtempSync(join(tmpdir(), 'assent-nginx-'));
  // As root, nginx's workers run as an unprivileged user (nobody) and must reach their temp dirs.
  chmodSync(dir, 0o755);
  // nginx creates each temp dir itself (owned by its worker user), but not their parent.
  mkdirSync(join(dir, 'tmp'), { mode: 0o755 });
  let last: Error | undefined;
  for (let i = 0; i < 5; i++) {
    const r = await attempt(dir, opts);
    if ('close' in r) return r;
    last = r.error;
    if (!r.retry) break;
  }
  rmSync(dir, { recursive: true, force: true });
  throw last;
};
