/**
 * File semantics through the whole system, under both designs: offsets, holes, O_APPEND, unlinked
 * open files, hard links, rename rules, the working directory, descriptors and short copies at the
 * edge of mapped memory.
 */
import { describe, expect, it } from 'vitest';
import { STACK_TOP } from '../../../src/kernel/mm/layout.js';
import { Errno } from '../../../src/kernel/uapi/errno.js';
import { F, FD_CLOEXEC, MAP, O, PROT, S, SEEK } from '../../../src/kernel/uapi/flags.js';
import { decodeUtf8, encodeUtf8 } from '../../../src/user/libc/cstring.js';
import {
  chdir,
  fstat,
  getcwd,
  link,
  mkdir,
  open,
  readTextFile,
  rename,
  stat,
  unlink,
  writeFile,
} from '../../../src/user/libc/files.js';
import { pipe, writeString } from '../../../src/user/libc/io.js';
import type { Proc } from '../../../src/user/libc/process.js';
import type { Call } from '../../../src/user/libc/syscall.js';
import {
  close,
  dup,
  dup3,
  fcntl,
  ftruncate,
  lseek,
  pread,
  read,
  write,
} from '../../../src/user/libc/sys-fs.js';
import { mmap, munmap } from '../../../src/user/libc/sys-proc.js';
import { DESIGN_NAMES, fields, runProgram, say } from './helpers.js';

const PAGE = 4096;

function* readAt(p: Proc, fd: number, offset: number, length: number): Call<string> {
  const buffer = yield* p.heap.malloc(length);
  const n = yield* pread(fd, buffer, length, offset);
  const out = n < 0 ? String(n) : JSON.stringify(decodeUtf8(p.cpu.readBytes(buffer, n)));
  yield* p.heap.free(buffer);
  return out;
}

describe.each(DESIGN_NAMES)('file semantics through the system (%s)', (design) => {
  it('keeps offsets, fills holes with zeros, appends with O_APPEND and truncates', () => {
    const r = runProgram(design, function* (p) {
      const fd = yield* open(p, '/tmp/f', O.RDWR | O.CREAT, 0o644);
      yield* writeString(p, fd, 'hello');
      yield* say(p, 'offset', yield* lseek(fd, 0, SEEK.CUR));
      yield* say(p, 'seekPastEnd', yield* lseek(fd, 10, SEEK.SET));
      yield* writeString(p, fd, 'X');
      const st = yield* fstat(p, fd);
      yield* say(p, 'size', typeof st === 'number' ? st : st.size);
      yield* say(p, 'hole', yield* readAt(p, fd, 0, 16));
      yield* say(p, 'badWhence', yield* lseek(fd, 0, 9));
      yield* say(p, 'negative', yield* lseek(fd, -100, SEEK.SET));
      yield* say(p, 'end', yield* lseek(fd, -1, SEEK.END));
      const appender = yield* open(p, '/tmp/f', O.WRONLY | O.APPEND);
      yield* lseek(appender, 0, SEEK.SET);
      yield* writeString(p, appender, '!');
      yield* say(p, 'appended', yield* readAt(p, fd, 10, 5));
      yield* say(p, 'truncate', yield* ftruncate(fd, 3));
      yield* say(p, 'truncated', yield* readAt(p, fd, 0, 16));
      yield* say(p, 'extend', yield* ftruncate(fd, 5));
      yield* say(p, 'extended', yield* readAt(p, fd, 0, 16));
      const ro = yield* open(p, '/tmp/f', O.RDONLY);
      yield* say(p, 'truncateReadOnly', yield* ftruncate(ro, 0));
      return 0;
    });
    expect(fields(r.output)).toEqual({
      offset: '5',
      seekPastEnd: '10',
      size: '11',
      hole: JSON.stringify('hello\0\0\0\0\0X'),
      badWhence: String(-Errno.EINVAL),
      negative: String(-Errno.EINVAL),
      end: '10',
      appended: JSON.stringify('X!'),
      truncate: '0',
      truncated: JSON.stringify('hel'),
      extend: '0',
      extended: JSON.stringify('hel\0\0'),
      truncateReadOnly: String(-Errno.EINVAL),
    });
  });

  it('reads an unlinked open file; counts hard links; applies rename rules', () => {
    const r = runProgram(design, function* (p) {
      yield* writeFile(p, '/tmp/a', encodeUtf8('data-a'));
      const fd = yield* open(p, '/tmp/a', O.RDONLY);
      yield* say(p, 'link', yield* link(p, '/tmp/a', '/tmp/b'));
      const linked = yield* stat(p, '/tmp/b');
      yield* say(p, 'nlink', typeof linked === 'number' ? linked : linked.nlink);
      yield* say(p, 'unlink', yield* unlink(p, '/tmp/a'));
      yield* say(p, 'unlinkedRead', yield* readAt(p, fd, 0, 6));
      const after = yield* fstat(p, fd);
      yield* say(p, 'nlinkAfter', typeof after === 'number' ? after : after.nlink);
      yield* say(p, 'linkDir', yield* link(p, '/tmp', '/tmp/dirlink'));
      yield* mkdir(p, '/tmp/d1');
      yield* mkdir(p, '/tmp/d2');
      yield* writeFile(p, '/tmp/d2/x', new Uint8Array(1));
      yield* say(p, 'renameOverFull', yield* rename(p, '/tmp/d1', '/tmp/d2'));
      yield* say(p, 'renameIntoSelf', yield* rename(p, '/tmp/d1', '/tmp/d1/sub'));
      yield* say(p, 'renameDirOverFile', yield* rename(p, '/tmp/d1', '/tmp/b'));
      yield* say(p, 'renameFileOverDir', yield* rename(p, '/tmp/b', '/tmp/d1'));
      yield* say(p, 'renameFile', yield* rename(p, '/tmp/b', '/tmp/d1/moved'));
      yield* say(p, 'moved', yield* readTextFile(p, '/tmp/d1/moved'));
      yield* say(p, 'renameMissing', yield* rename(p, '/tmp/nothing', '/tmp/x'));
      return 0;
    });
    expect(fields(r.output)).toEqual({
      link: '0',
      nlink: '2',
      unlink: '0',
      unlinkedRead: JSON.stringify('data-a'),
      nlinkAfter: '1',
      linkDir: String(-Errno.EPERM),
      renameOverFull: String(-Errno.ENOTEMPTY),
      renameIntoSelf: String(-Errno.EINVAL),
      renameDirOverFile: String(-Errno.ENOTDIR),
      renameFileOverDir: String(-Errno.EISDIR),
      renameFile: '0',
      moved: 'data-a',
      renameMissing: String(-Errno.ENOENT),
    });
  });

  it('changes and reports the working directory', () => {
    const r = runProgram(design, function* (p) {
      yield* mkdir(p, '/tmp/w');
      yield* say(p, 'chdir', yield* chdir(p, '/tmp/w'));
      yield* say(p, 'cwd', yield* getcwd(p));
      yield* writeFile(p, 'rel', encodeUtf8('relative'));
      yield* say(p, 'absolute', yield* readTextFile(p, '/tmp/w/rel'));
      yield* say(p, 'dotdot', yield* chdir(p, '../..'));
      yield* say(p, 'cwd2', yield* getcwd(p));
      yield* say(p, 'aboveRoot', yield* chdir(p, '../../..'));
      yield* say(p, 'cwd3', yield* getcwd(p));
      yield* say(p, 'toFile', yield* chdir(p, '/etc/passwd'));
      yield* say(p, 'toMissing', yield* chdir(p, '/nope'));
      return 0;
    });
    expect(fields(r.output)).toEqual({
      chdir: '0',
      cwd: '/tmp/w',
      absolute: 'relative',
      dotdot: '0',
      cwd2: '/',
      aboveRoot: '0',
      cwd3: '/',
      toFile: String(-Errno.ENOTDIR),
      toMissing: String(-Errno.ENOENT),
    });
  });

  it('duplicates descriptors (shared offset), sets close-on-exec, reports pipes as FIFOs', () => {
    const r = runProgram(design, function* (p) {
      yield* writeFile(p, '/tmp/f', encodeUtf8('abcdef'));
      const fd = yield* open(p, '/tmp/f', O.RDONLY);
      const copy = yield* dup(fd);
      const buffer = yield* p.heap.malloc(8);
      yield* read(fd, buffer, 2);
      yield* read(copy, buffer, 2);
      yield* say(p, 'sharedOffset', decodeUtf8(p.cpu.readBytes(buffer, 2)));
      yield* say(p, 'dup3', yield* dup3(fd, 20, O.CLOEXEC));
      yield* say(p, 'cloexec', (yield* fcntl(20, F.GETFD, 0)) === FD_CLOEXEC);
      yield* say(p, 'dup3Self', yield* dup3(fd, fd, 0));
      yield* say(p, 'dup3Range', yield* dup3(fd, 100_000, 0));
      yield* say(p, 'dupfdMin', yield* fcntl(fd, F.DUPFD, 30));
      yield* say(p, 'getfl', (yield* fcntl(fd, F.GETFL, 0)) & O.ACCMODE);
      const fds = yield* pipe(p);
      if (typeof fds === 'number') return 1;
      const st = yield* fstat(p, fds[0]);
      yield* say(p, 'fifo', typeof st !== 'number' && (st.mode & S.IFMT) === S.IFIFO);
      yield* say(p, 'pipeSeek', yield* lseek(fds[0], 0, SEEK.SET));
      yield* say(p, 'pipeNonblock', yield* fcntl(fds[0], F.SETFL, O.NONBLOCK));
      yield* say(p, 'emptyRead', yield* read(fds[0], buffer, 1));
      yield* say(p, 'readWriteEnd', yield* read(fds[1], buffer, 1));
      yield* say(p, 'writeReadEnd', yield* write(fds[0], buffer, 1));
      yield* close(fds[1]);
      yield* say(p, 'eof', yield* read(fds[0], buffer, 1));
      return 0;
    });
    expect(fields(r.output)).toEqual({
      sharedOffset: 'cd',
      dup3: '20',
      cloexec: 'true',
      dup3Self: String(-Errno.EINVAL),
      dup3Range: String(-Errno.EBADF),
      dupfdMin: '30',
      getfl: String(O.RDONLY),
      fifo: 'true',
      pipeSeek: String(-Errno.ESPIPE),
      pipeNonblock: '0',
      emptyRead: String(-Errno.EAGAIN),
      readWriteEnd: String(-Errno.EBADF),
      writeReadEnd: String(-Errno.EBADF),
      eof: '0',
    });
  });

  it('copies up to the first unmapped byte of a user buffer (short read and write)', () => {
    const r = runProgram(design, function* (p) {
      yield* writeFile(p, '/tmp/big', new Uint8Array(3 * PAGE).fill(0x61));
      // Two pages mapped, the second unmapped again: a buffer from 100 bytes before the hole.
      const area = yield* mmap(0, 2 * PAGE, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
      yield* munmap(area + PAGE, PAGE);
      const fd = yield* open(p, '/tmp/big', O.RDONLY);
      yield* say(p, 'shortRead', yield* read(fd, area + PAGE - 100, 1000));
      yield* say(p, 'offsetAfter', yield* lseek(fd, 0, SEEK.CUR));
      const out = yield* open(p, '/tmp/out', O.WRONLY | O.CREAT, 0o644);
      yield* say(p, 'shortWrite', yield* write(out, area + PAGE - 100, 1000));
      // The stack's top page is the argument page: the byte past STACK_TOP is unmapped.
      yield* say(p, 'stackEdge', yield* read(fd, STACK_TOP - 10, 100));
      return 0;
    });
    // Linux copies what it can and returns the short count (filemap_read / generic_perform_write).
    expect(fields(r.output)).toEqual({
      shortRead: '100',
      offsetAfter: '100',
      shortWrite: '100',
      stackEdge: '10',
    });
  });
});
