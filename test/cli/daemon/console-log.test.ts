// The daemon's console log on disk (bytes plus a stream index), read back from any offset, and
// Docker's multiplexed framing with the client's demultiplexer, whatever the read boundaries.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Demultiplexer } from '../../../src/cli/client/demux.js';
import {
  appendConsole,
  multiplex,
  readConsoleRuns,
  tailOffset,
} from '../../../src/cli/daemon/console-log.js';
import { containersDir } from '../../../src/cli/daemon/records.js';
import type { ConsoleChunk } from '../../../src/kernel/core/console.js';
import { tempState } from './helpers.js';

const text = (runs: readonly ConsoleChunk[]): [number, string][] =>
  runs.map((r) => [r.stream, Buffer.from(r.bytes).toString('utf8')]);
const chunk = (stream: 1 | 2, s: string): ConsoleChunk => ({ stream, bytes: Buffer.from(s) });

function newContainer(): { state: string; id: string } {
  const state = tempState();
  const id = 'c0ffee';
  mkdirSync(join(containersDir(state), id), { recursive: true });
  return { state, id };
}

describe('console log on disk', () => {
  it('reads runs of both streams back from any byte offset, merging neighbours of one stream', () => {
    const { state, id } = newContainer();
    appendConsole(state, id, [chunk(1, 'ab'), chunk(1, 'c'), chunk(2, 'ERR')]);
    appendConsole(state, id, [chunk(1, 'de')]);
    expect(text(readConsoleRuns(state, id))).toEqual([
      [1, 'abc'],
      [2, 'ERR'],
      [1, 'de'],
    ]);
    expect(text(readConsoleRuns(state, id, 4))).toEqual([
      [2, 'RR'],
      [1, 'de'],
    ]);
    expect(text(readConsoleRuns(state, id, 6))).toEqual([[1, 'de']]);
    expect(readConsoleRuns(state, id, 8)).toEqual([]);
    expect(readConsoleRuns(state, id, 100)).toEqual([]);
  });

  it('finds where the last lines begin, as tail counts them', () => {
    const { state, id } = newContainer();
    appendConsole(state, id, [chunk(1, 'a\nb\n'), chunk(2, 'c\nd')]);
    expect(tailOffset(state, id, 0)).toBe(7);
    expect(tailOffset(state, id, 1)).toBe(6); // "d" without its newline is a line
    expect(tailOffset(state, id, 2)).toBe(4);
    expect(tailOffset(state, id, 4)).toBe(0);
    expect(tailOffset(state, id, 10)).toBe(0);
    expect(text(readConsoleRuns(state, id, tailOffset(state, id, 2)))).toEqual([[2, 'c\nd']]);
  });

  it('counts a log without an index as stdout', () => {
    const { state, id } = newContainer();
    writeFileSync(join(containersDir(state), id, 'console.log'), 'old output\n');
    expect(text(readConsoleRuns(state, id, 4))).toEqual([[1, 'output\n']]);
  });

  it('frames runs as Docker does and gets them back however the bytes are split', () => {
    const runs = [chunk(1, 'hello\n'), chunk(2, 'oops\n'), chunk(1, '')];
    const framed = Buffer.from(multiplex(runs));
    expect([...framed.subarray(0, 8)]).toEqual([1, 0, 0, 0, 0, 0, 0, 6]);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: framed.length }), { maxLength: 6 }), (cuts) => {
        const got: [number, string][] = [];
        const demux = new Demultiplexer((stream, bytes) => got.push([stream, bytes.toString('utf8')]));
        const points = [0, ...[...cuts].sort((a, b) => a - b), framed.length];
        for (let i = 1; i < points.length; i++) demux.push(framed.subarray(points[i - 1], points[i]));
        expect(got.filter(([, s]) => s !== '')).toEqual([
          [1, 'hello\n'],
          [2, 'oops\n'],
        ]);
        expect(demux.truncated).toBe(false);
      }),
    );
  });
});
