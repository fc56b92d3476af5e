/**
 * `rcontainer tcb`: the trusted computing base by privilege level, counted like the paper
 * (spec/rcontainer.md: 130 SLoC at EL3, 2,384 at EL1, 133 at EL0).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { countSloc } from './sloc.js';

/** The paper's figures. */
export const PAPER_TCB = { el3: 130, el1: 2384, el0: 133 } as const;

/** Which sources make up each trusted part. */
export const TCB_PARTS = {
  /** The RContainer GPT-switch service at EL3 (the paper's EL3 part). */
  el3: ['src/firmware/rc-service.ts'],
  /** The mini-OS. */
  el1: ['src/minios'],
  /** Trusted EL0 code: none in this implementation. */
  el0: [] as string[],
} as const;

/** One counted file. */
export interface TcbFile {
  readonly part: 'el3' | 'el1' | 'el0';
  readonly path: string;
  readonly sloc: number;
}

/** The report. */
export interface TcbReport {
  el3: number;
  el1: number;
  el0: number;
  files: TcbFile[];
  paper: typeof PAPER_TCB;
}

function sourcesUnder(root: string, entry: string): string[] {
  const path = join(root, entry);
  if (!existsSync(path)) return [];
  if (statSync(path).isFile()) return [path];
  return readdirSync(path, { recursive: true })
    .map((name) => join(path, String(name)))
    .filter((file) => file.endsWith('.ts') && statSync(file).isFile())
    .sort();
}

/** Count the TCB of the sources under `root` (the repository root). */
export function tcbReport(root: string): TcbReport {
  const report: TcbReport = { el3: 0, el1: 0, el0: 0, files: [], paper: PAPER_TCB };
  for (const part of ['el3', 'el1', 'el0'] as const) {
    for (const entry of TCB_PARTS[part]) {
      for (const file of sourcesUnder(root, entry)) {
        const sloc = countSloc(readFileSync(file, 'utf8'));
        report.files.push({ part, path: relative(root, file), sloc });
        report[part] += sloc;
      }
    }
  }
  return report;
}
