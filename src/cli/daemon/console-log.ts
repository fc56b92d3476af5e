/**
 * A container's console output on disk: `console.log` holds the bytes of both streams in order
 * (what `logs` prints), and `console.streams` says which stream each run of them came from, as
 * records of 5 bytes (stream u8, length u32 LE). Runs are read back from any byte offset of
 * console.log, as plain bytes or in Docker's multiplexed framing (the attach/logs stream of a
 * container without a terminal: a header of stream u8, three zero bytes and length u32 BE).
 */
import { appendFileSync, closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { ConsoleChunk } from '../../kernel/core/console.js';
import { containersDir } from './records.js';

const RECORD_BYTES = 5;
/** Bytes of a frame header of Docker's multiplexed stream. */
export const FRAME_HEADER_BYTES = 8;

const logPath = (stateDir: string, id: string): string => join(containersDir(stateDir), id, 'console.log');
const streamsPath = (stateDir: string, id: string): string =>
  join(containersDir(stateDir), id, 'console.streams');

/** Append console output (runs of both streams, in order). */
export function appendConsole(stateDir: string, id: string, chunks: readonly ConsoleChunk[]): void {
  if (chunks.length === 0) return;
  const records: { stream: number; length: number }[] = [];
  for (const { stream, bytes } of chunks) {
    const last = records.at(-1);
    if (last !== undefined && last.stream === stream) last.length += bytes.length;
    else records.push({ stream, length: bytes.length });
  }
  const index = Buffer.alloc(records.length * RECORD_BYTES);
  records.forEach(({ stream, length }, i) => {
    index.writeUInt8(stream, i * RECORD_BYTES);
    index.writeUInt32LE(length, i * RECORD_BYTES + 1);
  });
  appendFileSync(logPath(stateDir, id), Buffer.concat(chunks.map((c) => c.bytes)));
  appendFileSync(streamsPath(stateDir, id), index);
}

/** console.log from byte `since` on (empty if there is none). */
export function readConsole(stateDir: string, id: string, since = 0): Uint8Array {
  const path = logPath(stateDir, id);
  if (!existsSync(path)) return new Uint8Array(0);
  // Only the part asked for is read: a followed log asks for its tail again and again.
  const fd = openSync(path, 'r');
  try {
    const length = Math.max(0, fstatSync(fd).size - since);
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, out, done, length - done, since + done);
      if (n === 0) break;
      done += n;
    }
    return out.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}

/**
 * console.log from byte `since` on as runs of their streams. Bytes the index does not cover (a log
 * written before it existed) count as stdout.
 */
export function readConsoleRuns(stateDir: string, id: string, since = 0): ConsoleChunk[] {
  const bytes = readConsole(stateDir, id, since);
  const path = streamsPath(stateDir, id);
  const index = existsSync(path) ? readFileSync(path) : Buffer.alloc(0);
  const runs: ConsoleChunk[] = [];
  let at = 0; // offset in console.log of the record's start
  for (let i = 0; i + RECORD_BYTES <= index.length && at - since < bytes.length; i += RECORD_BYTES) {
    const stream = index.readUInt8(i) === 2 ? 2 : 1;
    const end = at + index.readUInt32LE(i + 1);
    if (end > since) runs.push({ stream, bytes: bytes.subarray(Math.max(at, since) - since, end - since) });
    at = end;
  }
  const covered = Math.max(at, since) - since;
  if (covered < bytes.length) runs.push({ stream: 1, bytes: bytes.subarray(covered) });
  return runs.filter((run) => run.bytes.length > 0);
}

/** Runs in Docker's multiplexed framing. */
export function multiplex(runs: readonly ConsoleChunk[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const { stream, bytes } of runs) {
    const header = Buffer.alloc(FRAME_HEADER_BYTES);
    header.writeUInt8(stream, 0);
    header.writeUInt32BE(bytes.length, 4);
    parts.push(header, bytes);
  }
  return Buffer.concat(parts);
}

/** Runs as plain bytes. */
export function joinRuns(runs: readonly ConsoleChunk[]): Uint8Array {
  return Buffer.concat(runs.map((run) => run.bytes));
}

/** The byte offset in console.log where its last `lines` lines begin (0 when it has fewer). */
export function tailOffset(stateDir: string, id: string, lines: number): number {
  const bytes = readConsole(stateDir, id);
  // A last line without its newline counts as a line, as `tail` counts it.
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === 0x0a) end--;
  let seen = 0;
  for (let at = end - 1; at >= 0; at--) {
    if (bytes[at] !== 0x0a) continue;
    if (++seen === lines) return at + 1;
  }
  return lines === 0 ? bytes.length : 0;
}
