import { createHmac, createSecretKey, type KeyObject, randomBytes } from 'node:crypto';
import type { Store } from './store/types.js';

const DAY = 86_400_000;
const dayOf = (now: number) => new Date(now).toISOString().slice(0, 10);

/**
 * Pseudonymises IP addresses: HMAC-SHA256(key(day), ip), where key(day) = HMAC(secret, day + salt(day)).
 * The secret never leaves the server's data dir (it is not in the database), so the database
 * alone cannot be brute-forced over the IPv4 space; the random daily salt is shared through the
 * database (so several processes agree within a day) and deleted after two days, after which
 * nobody, not even with the secret, can link an old hash to an IP. The raw IP is never stored.
 */
export class IpHasher {
  // KeyObjects, not Buffers: createHmac with a Buffer imports the key again on every call.
  private readonly keys = new Map<string, KeyObject>();
  private readonly pending = new Map<string, Promise<KeyObject>>();

  constructor(
    private readonly secret: Buffer,
    private readonly store: Store,
  ) {}

  /** The keyed hash of an IP for today: 22 base64url characters (128 bits). */
  async hash(ip: string, now = Date.now()): Promise<string> {
    return this.hashSync(ip, now) ?? this.digest(await this.key(dayOf(now)), ip);
  }

  /**
   * The same, without a promise when today's key is already known (every request but the
   * first of a day): the receipt route's hot path. Undefined when the key must be loaded.
   */
  hashSync(ip: string, now = Date.now()): string | undefined {
    const key = this.keys.get(dayOf(now));
    return key && this.digest(key, ip);
  }

  private digest(key: KeyObject, ip: string): string {
    return createHmac('sha256', key).update(ip).digest('base64url').slice(0, 22);
  }

  private key(day: string): Promise<KeyObject> {
    let p = this.pending.get(day);
    if (!p) {
      p = this.store.salt(day, randomBytes(32).toString('base64url')).then((salt) => {
        const key = createSecretKey(createHmac('sha256', this.secret).update(`${day}:${salt}`).digest());
        this.keys.set(day, key);
        this.pending.delete(day);
        for (const d of this.keys.keys()) if (d < day) this.keys.delete(d);
        return key;
      });
      p.catch(() => this.pending.delete(day));
      this.pending.set(day, p);
    }
    return p;
  }

  /** Forgets salts older than yesterday, in memory and in the database. */
  async rotate(now = Date.now()): Promise<void> {
    await this.store.dropSaltsBefore(dayOf(now - DAY));
  }
}
