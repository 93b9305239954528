import type { LookupAddress, LookupOptions } from 'node:dns';
import { lookup } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * Where a webhook may be delivered. Editors may add webhooks, and a delivery's status and
 * timing are shown in the console, so without a rule anyone who may add one could make the
 * server probe the network it sits in: its own ports (the database's, the metrics'), the
 * cloud's metadata address (169.254.169.254), the office's printers. So receivers must be on
 * public addresses unless the owner allows private networks (`webhookPrivateNetworks`: `true`,
 * or a list of addresses and CIDR ranges), as GitLab and Gitea do.
 *
 * Checked where it cannot be dodged: on the address each delivery actually connects to (the
 * resolver's answer, in the connection's own lookup, so a name that resolves to a public
 * address when registered and to 127.0.0.1 later, DNS rebinding, is caught), and at
 * registration for addresses written in the URL and `localhost` names, for an early 400.
 */

/** Ranges that are not the public internet (IANA special-purpose registries, RFC 6890). */
const NON_PUBLIC: readonly [string, number, 'ipv4' | 'ipv6'][] = [
  ['0.0.0.0', 8, 'ipv4'], // "this network"
  ['10.0.0.0', 8, 'ipv4'], // private
  ['100.64.0.0', 10, 'ipv4'], // carrier-grade NAT
  ['127.0.0.0', 8, 'ipv4'], // loopback
  ['169.254.0.0', 16, 'ipv4'], // link-local, cloud metadata
  ['172.16.0.0', 12, 'ipv4'], // private
  ['192.0.0.0', 24, 'ipv4'], // IETF protocol assignments
  ['192.168.0.0', 16, 'ipv4'], // private
  ['198.18.0.0', 15, 'ipv4'], // benchmarking
  ['224.0.0.0', 4, 'ipv4'], // multicast
  ['240.0.0.0', 4, 'ipv4'], // reserved, broadcast
  ['::', 128, 'ipv6'], // unspecified
  ['::1', 128, 'ipv6'], // loopback
  ['::', 96, 'ipv6'], // IPv4-compatible (deprecated): ::127.0.0.1
  ['64:ff9b:1::', 48, 'ipv6'], // local-use NAT64 (RFC 8215): the operator's own translator
  ['2001::', 32, 'ipv6'], // Teredo: a tunnel to an address it obfuscates
  ['fc00::', 7, 'ipv6'], // unique local
  ['fe80::', 10, 'ipv6'], // link-local
  ['ff00::', 8, 'ipv6'], // multicast
];

const nonPublic = new BlockList();
for (const [a, bits, family] of NON_PUBLIC) nonPublic.addSubnet(a, bits, family);

/** An IPv6 address (valid, `isIP` 6) as its eight 16-bit words. */
const words = (address: string): number[] => {
  let a = address.toLowerCase().replace(/%.*$/, '');
  // A dotted IPv4 tail (::ffff:1.2.3.4, 64:ff9b::127.0.0.1) as its two words.
  const tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a);
  if (tail) {
    const [b0, b1, b2, b3] = tail.slice(1).map(Number) as [number, number, number, number];
    a = `${a.slice(0, tail.index)}${((b0 << 8) | b1).toString(16)}:${((b2 << 8) | b3).toString(16)}`;
  }
  const [head = '', rest] = a.split('::');
  const h = head ? head.split(':') : [];
  const t = rest ? rest.split(':') : [];
  const zeros = rest === undefined ? [] : Array<string>(8 - h.length - t.length).fill('0');
  return [...h, ...zeros, ...t].map((w) => Number.parseInt(w, 16));
};

/**
 * The IPv4 address an IPv6 address leads to through a translator or a tunnel, or null: NAT64's
 * well-known prefix 64:ff9b::/96 (RFC 6052; a DNS64 resolver answers IPv4-only names so),
 * 6to4's 2002::/16 (RFC 3056) and SIIT's ::ffff:0:0:0/96 (RFC 2765). A connection to one
 * reaches that IPv4 address, so it must be one a webhook may reach: 64:ff9b::a9fe:a9fe is
 * 169.254.169.254. (IPv4-mapped ::ffff:a.b.c.d is checked as IPv4 by BlockList itself.)
 */
export const embeddedIPv4 = (address: string): string | null => {
  if (isIP(address) !== 6) return null;
  const w = words(address);
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  if (w[0] === 0x64 && w[1] === 0xff9b && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0)
    return v4(w[6]!, w[7]!);
  if (w[0] === 0x2002) return v4(w[1]!, w[2]!);
  if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0xffff && w[5] === 0)
    return v4(w[6]!, w[7]!);
  return null;
};

/** What the owner allows besides public addresses. */
export type PrivateNetworks = boolean | readonly string[];

const familyOf = (a: string) => (isIP(a) === 6 ? 'ipv6' : 'ipv4');

/** `192.168.1.0/24`, `10.0.0.7`, `fd00::/8`: why it is not an address or range, or null. */
export const networkProblem = (s: string): string | null => {
  const [a = '', bits, extra] = s.split('/');
  const v = isIP(a);
  if (!v || extra !== undefined) return `"${s}" is not an IP address or CIDR range such as 10.0.0.0/8`;
  if (bits !== undefined && !(/^\d{1,3}$/.test(bits) && Number(bits) <= (v === 4 ? 32 : 128)))
    return `"${s}" has a prefix length out of range`;
  return null;
};

const REFUSED =
  'is not a public address: webhooks are delivered to the internet unless the server allows private networks (webhookPrivateNetworks)';

/** An error whose code the delivery log shows (never the address: the log is for editors too). */
export const privateAddressError = () =>
  Object.assign(new Error(`the receiver ${REFUSED}`), { code: 'ASSENT_PRIVATE_ADDRESS' });

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** The address written in `url`'s host (brackets of IPv6 removed), or null for a name. */
const addressIn = (url: URL): string | null => {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return isIP(host) ? host : null;
};

/** The server's rule for where webhooks may go, built once from what the owner allows. */
export class DeliveryRule {
  /** The owner's list as ranges; null when it is all (true) or nothing (false). */
  private readonly listed: BlockList | null = null;

  constructor(readonly allowed: PrivateNetworks) {
    if (!Array.isArray(allowed)) return;
    const list = new BlockList();
    for (const n of allowed) {
      const problem = networkProblem(n);
      if (problem) throw new Error(`webhooks: privateNetworks: ${problem}`);
      const [a = '', bits] = n.split('/');
      if (bits === undefined) list.addAddress(a, familyOf(a));
      else list.addSubnet(a, Number(bits), familyOf(a));
    }
    this.listed = list;
  }

  /** Whether a receiver at `address` may be delivered to. */
  allows(address: string): boolean {
    // Through NAT64, 6to4 or SIIT: the IPv4 address it leads to must be allowed too.
    const v4 = embeddedIPv4(address);
    if (v4 !== null && !this.allows(v4)) return false;
    if (!nonPublic.check(address, familyOf(address))) return true;
    if (this.allowed === true) return true;
    return this.listed?.check(address, familyOf(address)) ?? false;
  }

  /**
   * Why a receiver's URL is refused at registration, or null: an address written in the URL,
   * or a `localhost` name. Other names are checked when delivering.
   */
  problem(url: URL): string | null {
    const address = addressIn(url);
    if (address) return this.allows(address) ? null : `${address} ${REFUSED}`;
    // A localhost name resolves to loopback: refused unless either loopback address is allowed
    // (which one it resolves to is checked when delivering).
    if (/(^|\.)localhost\.?$/i.test(url.hostname) && !['127.0.0.1', '::1'].some((a) => this.allows(a)))
      return `${url.hostname} ${REFUSED}`;
    return null;
  }

  /** Whether `url` names its receiver by an address that is refused (connected to without a lookup). */
  refusesAddressIn(url: URL): boolean {
    const address = addressIn(url);
    return address !== null && !this.allows(address);
  }

  /**
   * A `lookup` for http(s).request that resolves as usual and refuses the connection when any
   * address the name has is not allowed: the check and the connection use the same answer.
   */
  readonly lookup = (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      if (!addresses.length || addresses.some((a) => !this.allows(a.address)))
        return callback(privateAddressError(), []);
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}
