// Types of build-options.mjs, for the TypeScript benches that import it (bench/prefs.ts).
import type { BuildOptions } from 'esbuild';

export const common: BuildOptions;
export const dropInOptions: (isLite: boolean) => BuildOptions & { write: false };
export const prefsFile: (isLite: boolean) => string;
export const prefsOptions: (
  isLite: boolean,
  mangleCache: Record<string, string | false>,
) => BuildOptions & { write: false };
export const styles: (isLite: boolean, files?: string[]) => string;
export const lite: (on: boolean, split?: boolean) => { define: Record<string, string> };
export const squeeze: (input: string, map?: string) => { code: string; map?: string };
