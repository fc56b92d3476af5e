/**
 * Tests of the libc on the fake kernel: crt0 (argv/envp), malloc/free/realloc/calloc in user
 * memory, stdio buffering, line reading, fork state copies, threads, exec and wait helpers.
 */
import { describe, expect, it } from 'vitest';
import { Errno } from '../../src/kernel/uapi/errno.js';
import { MAP, O, PROT, SIG } from '../../src/kernel/uapi/flags.js';
import { decodeUtf8, readCString } from '../../src/user/libc/cstring.js';
import { execvp } from '../../src/user/libc/exec.js';
import { getcwd, listDirectory, open, readTextFile, stat, writeFile } from '../../src/user/libc/files.js';
import { fork, spawnThread } from '../../src/user/libc/fork.js';
import { pipe, readFull, writeAll, writeString } from '../../src/user/libc/io.js';
import { LineReader } from '../../src/user/libc/line-reader.js';
import { defineProgram, exit } from '../../src/user/libc/program.js';
import { isError } from '../../src/user/libc/syscall.js';
import { close } from '../../src/user/libc/sys-fs.js';
import { mmap } from '../../src/user/libc/sys-proc.js';
import { clockNs, nanosleep } from '../../src/user/libc/time.js';
import { waitpid } from '../../src/user/libc/wait.js';
import { runMain } from './fake/host.js';

describe('crt0 and stdio', () => {
  it('reads argv and envp from user memory', () => {
    const main = defineProgram(function* (p) {
      yield* p.stdout.print(`${p.argv.join('|')} ${p.env.get('FOO')} ${p.name}\n`);
      return 3;
    });
    const r = runMain(main, ['a b', ''], { env: ['FOO=bar', 'PATH=/bin'] });
    expect(r.stdout).toBe('test|a b| bar test\n');
    expect(r.status).toBe(3);
  });

  it('buffers stdout until a flush, exit or fork and keeps output order', () => {
    const main = defineProgram(function* (p) {
      yield* p.stdout.print('x'.repeat(5000));
      yield* p.stdout.printf('|%05d|\n', 42);
      yield* p.stderr.print('err\n');
      const pid = yield* fork(p, function* (cp) {
        yield* cp.stdout.print('child\n');
        return 0;
      });
      yield* waitpid(p, pid);
      yield* p.stdout.print('parent\n');
      return yield* exit(p, 0);
    });
    const r = runMain(main);
    expect(r.stdout).toBe(`${'x'.repeat(5000)}|00042|\nchild\nparent\n`);
    expect(r.stderr).toBe('err\n');
  });
});

describe('malloc', () => {
  it('keeps data in user memory across malloc, realloc, calloc and free', () => {
    const main = defineProgram(function* (p) {
      const a = yield* p.heap.malloc(10);
      p.cpu.writeBytes(a, new TextEncoder().encode('0123456789'));
      const b = yield* p.heap.realloc(a, 5000);
      const big = yield* p.heap.malloc(300_000);
      p.cpu.store8(big + 299_999, 7);
      const c = yield* p.heap.calloc(16, 16);
      const zero = p.cpu.readBytes(c, 256).every((x) => x === 0);
      const text = decodeUtf8(p.cpu.readBytes(b, 10));
      yield* p.heap.free(big);
      yield* p.heap.free(b);
      const again = yield* p.heap.malloc(5000);
      yield* p.stdout.print(
        `${text} ${zero} ${b !== a} ${again === b} ${p.heap.stats.mallocs - p.heap.stats.frees}\n`,
      );
      return 0;
    });
    expect(runMain(main).stdout).toBe('0123456789 true true true 2\n');
  });

  it('grows the break for many allocations and reuses freed blocks', () => {
    const main = defineProgram(function* (p) {
      const blocks: number[] = [];
      for (let i = 0; i < 2000; i++) {
        const block = yield* p.heap.malloc(200);
        p.cpu.store32(block, i);
        blocks.push(block);
      }
      const ok = blocks.every((block, i) => p.cpu.load32(block) === i);
      for (const block of blocks) yield* p.heap.free(block);
      const arena = p.heap.stats.arenaBytes;
      for (let i = 0; i < 2000; i++) yield* p.heap.malloc(200);
      yield* p.stdout.print(`${ok} ${arena >= 2000 * 256} ${p.heap.stats.arenaBytes === arena}\n`);
      return 0;
    });
    expect(runMain(main).stdout).toBe('true true true\n');
  });

  it('aborts on a double free', () => {
    const main = defineProgram(function* (p) {
      const a = yield* p.heap.malloc(8);
      yield* p.heap.free(a);
      yield* p.heap.free(a);
      return 0;
    });
    expect(runMain(main).status).toBe(128 + SIG.ABRT);
  });

  it('gives a forked child an independent copy of the heap state', () => {
    const main = defineProgram(function* (p) {
      const shared = yield* p.heap.malloc(64);
      p.cpu.store32(shared, 1);
      const pid = yield* fork(p, function* (cp) {
        cp.cpu.store32(shared, 2);
        const mine = yield* cp.heap.malloc(64);
        cp.cpu.store32(mine, 99);
        return cp.cpu.load32(shared);
      });
      const result = yield* waitpid(p, pid);
      const next = yield* p.heap.malloc(64);
      yield* p.stdout.print(
        `${typeof result === 'number' ? result : result.code} ${p.cpu.load32(shared)} ${p.cpu.load32(next)}\n`,
      );
      return 0;
    });
    expect(runMain(main).stdout).toBe('2 1 0\n');
  });
});

describe('files, pipes and line reading', () => {
  it('writes, stats, lists and reads files', () => {
    const main = defineProgram(function* (p) {
      yield* writeFile(p, '/tmp/x', new TextEncoder().encode('hello\nworld'));
      const st = yield* stat(p, '/tmp/x');
      const text = yield* readTextFile(p, '/tmp/x');
      const entries = yield* listDirectory(p, '/tmp');
      const missing = yield* open(p, '/tmp/none', O.RDONLY);
      const cwd = yield* getcwd(p);
      yield* p.stdout.print(
        `${typeof st === 'number' ? st : st.size} ${JSON.stringify(text)} ${typeof entries === 'number' ? entries : entries.map((e) => e.name).join(',')} ${missing === -Errno.ENOENT} ${cwd}\n`,
      );
      return 0;
    });
    expect(runMain(main).stdout).toBe('11 "hello\\nworld" .,..,x true /\n');
  });

  it('reads lines across buffer refills, with and without a final newline', () => {
    const main = defineProgram(function* (p) {
      const reader = new LineReader(p, 0, 7);
      const lines: string[] = [];
      for (let line = yield* reader.readLine(); line !== undefined; line = yield* reader.readLine())
        lines.push(line);
      yield* p.stdout.print(JSON.stringify(lines));
      return 0;
    });
    expect(runMain(main, [], { stdin: 'first line\n\nthird is longer than seven\nlast' }).stdout).toBe(
      '["first line","","third is longer than seven","last"]',
    );
  });

  it('moves data through a pipe between processes', () => {
    const main = defineProgram(function* (p) {
      const fds = yield* pipe(p);
      if (typeof fds === 'number') return 1;
      const pid = yield* fork(p, function* (cp) {
        yield* close(fds[0]);
        yield* writeString(cp, fds[1], 'x'.repeat(100_000));
        return 0;
      });
      yield* close(fds[1]);
      const buffer = yield* p.heap.malloc(200_000);
      const n = yield* readFull(fds[0], buffer, 200_000);
      yield* waitpid(p, pid);
      yield* p.stdout.print(`${n}\n`);
      return 0;
    });
    expect(runMain(main).stdout).toBe('100000\n');
  });
});

describe('processes, threads and time', () => {
  it('execvp searches PATH and reports ENOENT', () => {
    const main = defineProgram(function* (p) {
      const err = yield* execvp(p, 'nosuch', ['nosuch']);
      yield* p.stdout.print(`${err === -Errno.ENOENT}\n`);
      return yield* execvp(p, 'echo', ['echo', 'via', 'path']);
    });
    expect(runMain(main, [], { env: ['PATH=/nowhere:/bin'] }).stdout).toBe('true\nvia path\n');
  });

  it('runs threads that share memory and report through a pipe', () => {
    const main = defineProgram(function* (p) {
      const counter = yield* p.heap.calloc(1, 8);
      const fds = yield* pipe(p);
      if (typeof fds === 'number') return 1;
      for (let t = 0; t < 4; t++) {
        const tid = yield* spawnThread(p, function* (tp) {
          for (let i = 0; i < 10; i++) tp.cpu.store32(counter, tp.cpu.load32(counter) + 1);
          const byte = yield* tp.heap.malloc(1);
          yield* writeAll(fds[1], byte, 1);
          return 0;
        });
        if (isError(tid)) return 1;
      }
      const buffer = yield* p.heap.malloc(4);
      yield* readFull(fds[0], buffer, 4);
      yield* p.stdout.print(`${p.cpu.load32(counter)}\n`);
      return 0;
    });
    expect(runMain(main).stdout).toBe('40\n');
  });

  it('measures simulated time with clock_gettime and nanosleep', () => {
    const main = defineProgram(function* (p) {
      const t0 = yield* clockNs(p);
      yield* nanosleep(p, 5_000_000);
      const t1 = yield* clockNs(p);
      yield* p.stdout.print(`${t1 - t0 >= 5_000_000}\n`);
      return 0;
    });
    expect(runMain(main).stdout).toBe('true\n');
  });

  it('reads C strings without crossing into an unmapped page', () => {
    const main = defineProgram(function* (p) {
      const page = yield* mmap(0, 4096, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
      p.cpu.writeBytes(page + 4093, new TextEncoder().encode('ok\0'));
      yield* p.stdout.print(`${readCString(p.cpu, page + 4093)}\n`);
      return 0;
    });
    expect(runMain(main).stdout).toBe('ok\n');
  });
});
