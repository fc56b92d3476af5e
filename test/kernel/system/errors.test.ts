/**
 * errno values of the kernel through the whole system, under both designs: bad descriptors, bad
 * user pointers, and the refusals of path walks and directory operations.
 */
import { describe, expect, it } from 'vitest';
import { Errno } from '../../../src/kernel/uapi/errno.js';
import { AT_FDCWD, O } from '../../../src/kernel/uapi/flags.js';
import { STAT_BYTES } from '../../../src/kernel/uapi/structs.js';
import { mkdir, open, rmdir, symlink, unlink, writeFile } from '../../../src/user/libc/files.js';
import { Sys } from '../../../src/kernel/uapi/syscalls.js';
import { syscall } from '../../../src/user/libc/syscall.js';
import { close, dup3, fstatRaw, openat, read, write } from '../../../src/user/libc/sys-fs.js';
import { DESIGN_NAMES, fields, runProgram, say } from './helpers.js';

/** A user address no process maps (below the text segment). */
const UNMAPPED = 0x1000;
/** A descriptor no test program opens. */
const NOT_OPEN = 42;

describe.each(DESIGN_NAMES)('errno through the system (%s)', (design) => {
  it('refuses unopened descriptors with EBADF', () => {
    const r = runProgram(design, function* (p) {
      const buffer = yield* p.heap.malloc(64);
      yield* say(p, 'read', yield* read(NOT_OPEN, buffer, 8));
      yield* say(p, 'write', yield* write(NOT_OPEN, buffer, 8));
      yield* say(p, 'close', yield* close(NOT_OPEN));
      yield* say(p, 'fstat', yield* fstatRaw(NOT_OPEN, buffer));
      yield* say(p, 'dup3', yield* dup3(NOT_OPEN, 10, 0));
      // A descriptor that was open once and closed is as bad as one never opened.
      const fd = yield* open(p, '/etc/passwd', O.RDONLY);
      yield* close(fd);
      yield* say(p, 'closed', yield* read(fd, buffer, 8));
      // Access mode: a read-only descriptor cannot be written.
      const ro = yield* open(p, '/etc/passwd', O.RDONLY);
      yield* say(p, 'wronly', yield* write(ro, buffer, 1));
      return 0;
    });
    expect(r.code).toBe(0);
    const EBADF = String(-Errno.EBADF);
    expect(fields(r.output)).toEqual({
      read: EBADF,
      write: EBADF,
      close: EBADF,
      fstat: EBADF,
      dup3: EBADF,
      closed: EBADF,
      wronly: EBADF,
    });
  });

  it('returns EFAULT for unmapped user pointers instead of killing the caller', () => {
    const r = runProgram(design, function* (p) {
      const fd = yield* open(p, '/etc/passwd', O.RDONLY);
      yield* say(p, 'read', yield* read(fd, UNMAPPED, 16));
      yield* say(p, 'openat', yield* openat(AT_FDCWD, UNMAPPED, O.RDONLY, 0));
      const out = yield* open(p, '/tmp/out', O.WRONLY | O.CREAT, 0o644);
      yield* say(p, 'write', yield* write(out, UNMAPPED, 16));
      yield* say(p, 'fstat', yield* fstatRaw(fd, UNMAPPED));
      yield* say(p, 'console', yield* write(1, UNMAPPED, 4));
      // The same call with a mapped buffer succeeds: the process survived the faults.
      const stat = yield* p.heap.malloc(STAT_BYTES);
      yield* say(p, 'ok', yield* fstatRaw(fd, stat));
      return 0;
    });
    expect(r.code).toBe(0);
    const EFAULT = String(-Errno.EFAULT);
    expect(fields(r.output)).toEqual({
      read: EFAULT,
      openat: EFAULT,
      write: EFAULT,
      fstat: EFAULT,
      console: EFAULT,
      ok: '0',
    });
  });

  it('reports ENOENT, ENOTDIR, ELOOP and ENAMETOOLONG from path walks', () => {
    const r = runProgram(design, function* (p) {
      yield* say(p, 'missing', yield* open(p, '/nope', O.RDONLY));
      yield* say(p, 'missingDir', yield* open(p, '/nope/x', O.RDONLY));
      yield* say(p, 'creatMissingDir', yield* open(p, '/nope/x', O.WRONLY | O.CREAT));
      yield* say(p, 'notDir', yield* open(p, '/etc/passwd/x', O.RDONLY));
      yield* say(p, 'oDirectory', yield* open(p, '/etc/passwd', O.RDONLY | O.DIRECTORY));
      yield* say(p, 'trailingSlash', yield* open(p, '/etc/passwd/', O.RDONLY));
      // A loop of two links, and chains of 40 (allowed) and 41 (one too many) links.
      yield* symlink(p, '/tmp/b', '/tmp/a');
      yield* symlink(p, '/tmp/a', '/tmp/b');
      yield* say(p, 'loop', yield* open(p, '/tmp/a', O.RDONLY));
      yield* writeFile(p, '/tmp/target', new TextEncoder().encode('x'));
      yield* symlink(p, '/tmp/target', '/tmp/l0');
      for (let i = 1; i <= 40; i++) yield* symlink(p, `/tmp/l${i - 1}`, `/tmp/l${i}`);
      const forty = yield* open(p, '/tmp/l39', O.RDONLY);
      yield* say(p, 'forty', forty >= 0);
      yield* say(p, 'fortyOne', yield* open(p, '/tmp/l40', O.RDONLY));
      // O_NOFOLLOW on a symlink is ELOOP too.
      yield* say(p, 'nofollow', yield* open(p, '/tmp/l0', O.RDONLY | O.NOFOLLOW));
      yield* say(p, 'longName', yield* open(p, `/tmp/${'n'.repeat(256)}`, O.RDONLY));
      yield* say(p, 'name255', yield* open(p, `/tmp/${'n'.repeat(255)}`, O.RDONLY));
      yield* say(p, 'longPath', yield* open(p, `/${'d/'.repeat(2100)}`, O.RDONLY));
      return 0;
    });
    expect(r.code).toBe(0);
    expect(fields(r.output)).toEqual({
      missing: String(-Errno.ENOENT),
      missingDir: String(-Errno.ENOENT),
      creatMissingDir: String(-Errno.ENOENT),
      notDir: String(-Errno.ENOTDIR),
      oDirectory: String(-Errno.ENOTDIR),
      trailingSlash: String(-Errno.ENOTDIR),
      loop: String(-Errno.ELOOP),
      forty: 'true',
      fortyOne: String(-Errno.ELOOP),
      nofollow: String(-Errno.ELOOP),
      longName: String(-Errno.ENAMETOOLONG),
      name255: String(-Errno.ENOENT),
      longPath: String(-Errno.ENAMETOOLONG),
    });
  });

  it('refuses a file without permission to a user who dropped root (EACCES)', () => {
    const r = runProgram(design, function* (p) {
      yield* writeFile(p, '/tmp/secret', new TextEncoder().encode('s'), 0o600);
      yield* writeFile(p, '/tmp/public', new TextEncoder().encode('p'), 0o644);
      yield* mkdir(p, '/tmp/closed', 0o700);
      yield* writeFile(p, '/tmp/closed/inner', new TextEncoder().encode('i'), 0o644);
      yield* say(p, 'asRoot', (yield* open(p, '/tmp/secret', O.RDONLY)) >= 0);
      yield* say(p, 'setuid', yield* syscall(Sys.setuid, 1000));
      yield* say(p, 'read', yield* open(p, '/tmp/secret', O.RDONLY));
      yield* say(p, 'public', (yield* open(p, '/tmp/public', O.RDONLY)) >= 0);
      yield* say(p, 'writePublic', yield* open(p, '/tmp/public', O.WRONLY));
      yield* say(p, 'search', yield* open(p, '/tmp/closed/inner', O.RDONLY));
      yield* say(p, 'createInEtc', yield* open(p, '/etc/new', O.WRONLY | O.CREAT, 0o644));
      yield* say(p, 'backToRoot', yield* syscall(Sys.setuid, 0));
      return 0;
    });
    expect(r.code).toBe(0);
    const EACCES = String(-Errno.EACCES);
    expect(fields(r.output)).toEqual({
      asRoot: 'true',
      setuid: '0',
      read: EACCES,
      public: 'true',
      writePublic: EACCES,
      search: EACCES,
      createInEtc: EACCES,
      backToRoot: String(-Errno.EPERM),
    });
  });

  it('reports EEXIST, EISDIR, ENOTDIR and ENOTEMPTY from creating and removing', () => {
    const r = runProgram(design, function* (p) {
      const fd = yield* open(p, '/tmp/f', O.WRONLY | O.CREAT | O.EXCL, 0o644);
      yield* say(p, 'first', fd >= 0);
      yield* say(p, 'excl', yield* open(p, '/tmp/f', O.WRONLY | O.CREAT | O.EXCL, 0o644));
      yield* say(p, 'creatNoExcl', (yield* open(p, '/tmp/f', O.WRONLY | O.CREAT, 0o644)) >= 0);
      yield* say(p, 'mkdirExisting', yield* mkdir(p, '/tmp/f'));
      yield* mkdir(p, '/tmp/d');
      yield* writeFile(p, '/tmp/d/child', new Uint8Array(1));
      yield* say(p, 'writeDir', yield* open(p, '/tmp/d', O.WRONLY));
      yield* say(p, 'creatDir', yield* open(p, '/tmp/d', O.RDONLY | O.CREAT));
      yield* say(p, 'unlinkDir', yield* unlink(p, '/tmp/d'));
      yield* say(p, 'rmdirFile', yield* rmdir(p, '/tmp/f'));
      yield* say(p, 'rmdirFull', yield* rmdir(p, '/tmp/d'));
      yield* say(p, 'unlinkChild', yield* unlink(p, '/tmp/d/child'));
      yield* say(p, 'rmdirEmpty', yield* rmdir(p, '/tmp/d'));
      yield* say(p, 'rmdirGone', yield* rmdir(p, '/tmp/d'));
      return 0;
    });
    expect(r.code).toBe(0);
    expect(fields(r.output)).toEqual({
      first: 'true',
      excl: String(-Errno.EEXIST),
      creatNoExcl: 'true',
      mkdirExisting: String(-Errno.EEXIST),
      writeDir: String(-Errno.EISDIR),
      creatDir: String(-Errno.EISDIR),
      unlinkDir: String(-Errno.EISDIR),
      rmdirFile: String(-Errno.ENOTDIR),
      rmdirFull: String(-Errno.ENOTEMPTY),
      unlinkChild: '0',
      rmdirEmpty: '0',
      rmdirGone: String(-Errno.ENOENT),
    });
  });
});
