/**
 * Failed authentications per client (by hashed IP), counted apart from the general rate
 * limit: that one allows hundreds of requests a minute for visitors and can be off, while a
 * token is guessed only by someone trying many. After `max` failures in `windowMs` a client
 * gets 429 on the authenticated routes, right token or not, until its window ends, so a
 * guesser learns nothing from those answers either.
 */
export class AuthThrottle {
  private readonly failures = new Map<string, { count: number; until: number }>();

  constructor(
    readonly max = 10,
    readonly windowMs = 60_000,
    /** Clients tracked at most: beyond it the oldest entries go (memory stays bounded). */
    private readonly capacity = 100_000,
  ) {}

  /** Seconds until `client` may try again, or 0 when it may now. */
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
}
