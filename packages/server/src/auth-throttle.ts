/**
 * Failed authentications per client (by hashed IP), counted apart from the general rate
 * limit: that one allows hundreds of requests a minute for visitors and can be off, while a
 * token is guessed only by someone trying many. After `max` failures in `windowMs` a client
 * gets 429 on the authenticated routes, right token or not, until its window ends, so a
 * guesser learns nothing from those answers either.
 *
 * An attempt counts from the moment it is checked, not from when it failed: a password check
 * takes about a second (scrypt), and attempts sent at once would all pass a count of finished
 * failures before the first one failed. So `begin` holds a place for the attempt: a client
 * may have at most `max` minus its failures checked at once, and what arrives beyond waits
 * for one of them to end (a failure leaves its place taken; a success gives it back). At most
 * `max` attempts per window are ever checked, whatever the concurrency, and a signed-in
 * console or a script sending many requests at once only waits a moment, never a 429.
 */
export class AuthThrottle {
  private readonly failures = new Map<string, { count: number; until: number }>();
  /** Attempts being checked now, per client, and who waits for one of them to end. */
  private readonly inFlight = new Map<string, { count: number; waiting: (() => void)[] }>();

  constructor(
    readonly max = 10,
    readonly windowMs = 60_000,
    /** Clients tracked at most: beyond it the oldest entries go (memory stays bounded). */
    private readonly capacity = 100_000,
  ) {}

  /** Seconds until `client` may try again, or 0 when it may now (attempts in flight aside). */
  blocked(client: string, now = Date.now()): number {
    const f = this.failures.get(client);
    if (!f) return 0;
    if (now >= f.until) {
      this.failures.delete(client);
      return 0;
    }
    return f.count >= this.max ? Math.ceil((f.until - now) / 1000) : 0;
  }

  fail(client: string, now = Date.now()): void {
    const f = this.failures.get(client);
    if (f && now < f.until) f.count++;
    else {
      this.failures.delete(client);
      if (this.failures.size >= this.capacity) this.failures.delete(this.failures.keys().next().value!);
      this.failures.set(client, { count: 1, until: now + this.windowMs });
    }
  }

  /**
   * Takes a place for one attempt of `client`: resolves 0 once it may be checked (call `end`
   * after), or the seconds to wait when the client is blocked (nothing to end). Waits while
   * the client's failures and attempts in flight together reach `max`.
   */
  async begin(client: string, now: () => number = Date.now): Promise<number> {
    for (;;) {
      const wait = this.blocked(client, now());
      if (wait) return wait;
      let flying = this.inFlight.get(client);
      const failed = this.failures.get(client)?.count ?? 0;
      if (failed + (flying?.count ?? 0) < this.max) {
        if (!flying) this.inFlight.set(client, (flying = { count: 0, waiting: [] }));
        flying.count++;
        return 0;
      }
      // Only reached with an attempt in flight (failures alone at max are `blocked`).
      await new Promise<void>((resolve) => flying!.waiting.push(resolve));
    }
  }

  /** Ends an attempt `begin` let through: counted as a failure or not; whoever waited tries again. */
  end(client: string, failed: boolean, now = Date.now()): void {
    if (failed) this.fail(client, now);
    const flying = this.inFlight.get(client);
    if (!flying) return;
    flying.count--;
    const waiting = flying.waiting.splice(0);
    if (flying.count <= 0 && !flying.waiting.length) this.inFlight.delete(client);
    for (const resolve of waiting) resolve();
  }
}
