import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time from /proc (Linux; zeros elsewhere), in clock ticks: the whole machine's busy and
 * total time (every core, the kernel's softirq work for loopback TCP included), and each thread
 * of the given processes. What lets a run say how much CPU one receipt costs, and so what rate
 * the machine's cores allow at all.
 */
export const cpuSample = (pids: readonly number[]) => {
  const read = (f: string) => {
    try {
      return readFileSync(f, 'utf8');
    } catch {
      return '';
    }
  };
  const cpu = read('/proc/stat').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
  const busy = total - (cpu[3] ?? 0) - (cpu[4] ?? 0);
  const threads = new Map<string, number>();
  for (const pid of pids) {
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {}
    for (const t of tasks) {
      // Fields after the command's closing parenthesis: utime is the 12th, stime the 13th.
      const f = read(`/proc/${pid}/task/${t}/stat`)
        .replace(/^.*\) /s, '')
        .split(' ');
      threads.set(`${pid}/${t}`, Number(f[11] ?? 0) + Number(f[12] ?? 0));
    }
  }
  return { at: performance.now(), busy, total, threads };
};

export type CpuSample = ReturnType<typeof cpuSample>;
