import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ScanResult } from '../scan.js';
import type { ScanReport } from '../types.js';
import { toHtml } from './html.js';
import { toJUnit } from './junit.js';
import { toMarkdown } from './markdown.js';

export type Format = 'json' | 'md' | 'html' | 'junit';
export const FORMATS: readonly Format[] = ['json', 'md', 'html', 'junit'];
export const FILE_NAMES: Record<Format, string> = {
  json: 'report.json',
  md: 'report.md',
  html: 'report.html',
  junit: 'junit.xml',
};

/** The stable JSON: the report exactly as typed, two-space indented. */
export const toJson = (r: ScanReport): string => `${JSON.stringify(r, null, 2)}\n`;

export const render = (format: Format, result: ScanResult): string => {
  switch (format) {
    case 'json':
      return toJson(result.report);
    case 'md':
      return toMarkdown(result.report);
    case 'html':
      return toHtml(result.report, result.images);
    case 'junit':
      return toJUnit(result.report);
  }
};

/** Writes the chosen formats, the screenshots the JSON refers to, and any HARs into `dir`. */
export const writeReports = async (
  result: ScanResult,
  dir: string,
  formats: readonly Format[],
): Promise<string[]> => {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const f of formats) {
    const file = join(dir, FILE_NAMES[f]);
    await writeFile(file, render(f, result));
    written.push(file);
  }
  for (const [rel, bytes] of [...result.images, ...(result.files ?? [])]) {
    const file = join(dir, rel);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, bytes);
  }
  return written;
};

export { toHtml, toJUnit, toMarkdown };
