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
  ['fc00::', 7, 'ipv6'], // unique local
  ['fe80::', 10, 'ipv6'], // link-local
  ['ff00::', 8, 'ipv6'], // multicast
];

const nonPublic = new BlockList();
for (const [a, bits, family] of NON_PUBLIC) nonPublic.addSubnet(a, bits, family);

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
