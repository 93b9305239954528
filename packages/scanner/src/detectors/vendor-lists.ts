import { readFileSync } from 'node:fs';

/**
 * The detector lists in data/: each a JSON file naming its sources and licence. Read once.
 */
const read = <T>(file: string): T =>
  JSON.parse(readFileSync(new URL(`../../data/${file}`, import.meta.url), 'utf8')) as T;

export interface HostVendor {
  readonly vendor: string;
  readonly hosts: readonly string[];
  readonly source: string;
}

export interface PixelDefinition {
  readonly vendor: string;
  /** Registrable domain or host suffix. */
  readonly host: string;
  /** Regular expression on the path. */
  readonly path: string;
  /** The query (or form body) parameter that names the event. */
  readonly event: string;
  readonly source: string;
}

export const SESSION_REPLAY: readonly HostVendor[] = read<{ vendors: HostVendor[] }>(
  'session-replay-vendors.json',
).vendors;
export const PIXELS: readonly PixelDefinition[] = read<{ pixels: PixelDefinition[] }>('pixels.json').pixels;

export interface CmpSignature {
  readonly cmp: string;
  /** CSS selector of the CMP's container. */
  readonly selector: string;
  readonly source: string;
}

export const CMP_SIGNATURE_LIST: readonly CmpSignature[] = read<{ signatures: CmpSignature[] }>(
  'cmp-signatures.json',
).signatures;

/** The host is one of the vendor's hosts or a subdomain of one. */
export const hostIn = (host: string, hosts: readonly string[]): boolean =>
  hosts.some((h) => host === h || host.endsWith(`.${h}`));
