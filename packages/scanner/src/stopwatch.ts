/**
 * Where a phase's time goes, step by step (load, banner, choice, reload, scroll…), for the
 * benchmark's per-step table (`bench/scanner.ts`). Not part of the report: timings are not
 * evidence, and they differ on every run.
 */
export class Stopwatch {
  private last = Date.now();
  private readonly steps: Record<string, number> = {};

  /** Charges the time since the previous lap (or the start) to `step`; repeated steps add up. */
  lap(step: string): void {
    const now = Date.now();
    this.steps[step] = (this.steps[step] ?? 0) + (now - this.last);
    this.last = now;
  }

  /** Milliseconds per step, in the order the steps first ran. */
  get laps(): Readonly<Record<string, number>> {
    return { ...this.steps };
  }
}
