/** `wc [-l] [-w] [-c] [files...]`: count lines, words and bytes (all three by default). */
import { O } from '../../../kernel/uapi/flags.js';
import { parseArgs } from '../../libc/args.js';
import { fail, perror } from '../../libc/errors.js';
import { open } from '../../libc/files.js';
import { Cost } from '../../libc/cost.js';
import { defineProgram } from '../../libc/program.js';
import type { Proc } from '../../libc/process.js';
import { isError, type Call } from '../../libc/syscall.js';
import { close, read } from '../../libc/sys-fs.js';

/** Line, word and byte counts. */
export interface Counts {
  lines: number;
  words: number;
  bytes: number;
}

/** A counter over chunks (a word may span chunks). */
export class WordCounter {
  readonly counts: Counts = { lines: 0, words: 0, bytes: 0 };
  private inWord = false;

  /** Count one chunk. */
  add(bytes: Uint8Array): void {
    this.counts.bytes += bytes.length;
    for (const b of bytes) {
      if (b === 0x0a) this.counts.lines++;
      const space = b === 0x20 || (b >= 0x09 && b <= 0x0d);
      if (!space && !this.inWord) this.counts.words++;
      this.inWord = !space;
    }
  }
}

/** Format the selected counts like wc: one count unpadded, several right-aligned to width 7. */
export function formatCounts(
  counts: Counts,
  which: readonly (keyof Counts)[],
  name: string | undefined,
): string {
  const fields = which.map((key) =>
    which.length === 1 ? String(counts[key]) : String(counts[key]).padStart(7),
  );
  return `${fields.join(' ')}${name === undefined ? '' : ` ${name}`}\n`;
}

function* countFd(p: Proc, fd: number): Call<Counts | number> {
  const CHUNK = 16 * 1024;
  const buffer = yield* p.heap.malloc(CHUNK);
  const counter = new WordCounter();
  try {
    for (;;) {
      const n = yield* read(fd, buffer, CHUNK);
      if (isError(n)) return n;
      if (n === 0) return counter.counts;
      p.cpu.compute(n * Cost.perByte);
      counter.add(p.cpu.readBytes(buffer, n));
    }
  } finally {
    yield* p.heap.free(buffer);
  }
}

/** The program `wc`. */
export const wcMain = defineProgram(function* wc(p) {
  const args = parseArgs(p.argv.slice(1), { flags: 'lwc' });
  if (args.error !== undefined) return yield* fail(p, args.error);
  const selected = (['lines', 'words', 'bytes'] as const).filter((_, i) => args.flags.has('lwc'[i]!));
  const which = selected.length > 0 ? selected : (['lines', 'words', 'bytes'] as const);
  const files = args.operands.length > 0 ? args.operands : ['-'];
  const total: Counts = { lines: 0, words: 0, bytes: 0 };
  let status = 0;
  for (const file of files) {
    const fd = file === '-' ? 0 : yield* open(p, file, O.RDONLY);
    if (isError(fd)) {
      yield* perror(p, file, fd);
      status = 1;
      continue;
    }
    const counts = yield* countFd(p, fd);
    if (fd !== 0) yield* close(fd);
    if (typeof counts === 'number') {
      yield* perror(p, file, counts);
      status = 1;
      continue;
    }
    total.lines += counts.lines;
    total.words += counts.words;
    total.bytes += counts.bytes;
    yield* p.stdout.print(formatCounts(counts, which, file === '-' ? undefined : file));
  }
  if (files.length > 1) yield* p.stdout.print(formatCounts(total, which, 'total'));
  return status;
});
