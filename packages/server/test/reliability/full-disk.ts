import { execFile } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A disk that can be filled and freed under a running server.
 *
 * - `tmpfs`: a small tmpfs mounted for the test (needs root, as `npm test` runs in CI): the data
 *   dir lives on it, `fill()` writes a filler file until the kernel says ENOSPC, `free()` deletes
 *   it. This is a real full disk: SQLite sees exactly what it would see in production.
 * - `rlimit`: without the right to mount, RLIMIT_FSIZE on the server process (prlimit): every
 *   write that would grow a file fails with EFBIG, as on a full disk (Node ignores SIGXFSZ, so
 *   the write fails instead of killing the process). Writes inside a file's current size still
 *   succeed, as they do on a full disk.
 */
export interface FullDisk {
  readonly kind: 'tmpfs' | 'rlimit';
  /** Where the server's data dir goes. */
  readonly dir: string;
  fill(pid: number): Promise<void>;
  free(pid: number): Promise<void>;
  dispose(): Promise<void>;
}

export const fullDisk = async (base: string): Promise<FullDisk> => {
  const dir = join(base, 'disk');
  mkdirSync(dir);
  const mounted = await run('mount', ['-t', 'tmpfs', '-o', 'size=32m,mode=0700', 'tmpfs', dir]).then(
    () => true,
    () => false,
  );
  if (!mounted)
    return {
      kind: 'rlimit',
      dir,
      fill: async (pid) => void (await run('prlimit', ['--pid', String(pid), '--fsize=0:unlimited'])),
      free: async (pid) => void (await run('prlimit', ['--pid', String(pid), '--fsize=unlimited:unlimited'])),
      dispose: async () => {},
    };
  const filler = join(dir, 'filler');
  return {
    kind: 'tmpfs',
    dir,
    fill: async () => {
      const fd = openSync(filler, 'a');
      try {
        for (const size of [1 << 20, 1 << 12, 1]) {
          const chunk = Buffer.alloc(size, 0x55);
          try {
            for (;;) writeSync(fd, chunk);
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    free: async () => rmSync(filler, { force: true }),
    dispose: async () => void (await run('umount', [dir])),
  };
};
