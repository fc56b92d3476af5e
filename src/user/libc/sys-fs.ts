/**
 * Raw file-system and file-descriptor system calls: one generator per call, arguments as the
 * kernel takes them (VAs of user memory for strings and buffers). String-level helpers are in
 * files.ts and io.ts.
 */
import { Sys } from '../../kernel/uapi/syscalls.js';
import { syscall, type Call } from './syscall.js';

/** read(2): bytes read into [va, va + length), 0 at end of file, or -errno. */
export function read(fd: number, va: number, length: number): Call {
  return syscall(Sys.read, fd, va, length);
}
/** write(2): bytes written from [va, va + length), or -errno. */
export function write(fd: number, va: number, length: number): Call {
  return syscall(Sys.write, fd, va, length);
}
/** pread64(2). */
export function pread(fd: number, va: number, length: number, offset: number): Call {
  return syscall(Sys.pread64, fd, va, length, offset);
}
/** pwrite64(2). */
export function pwrite(fd: number, va: number, length: number, offset: number): Call {
  return syscall(Sys.pwrite64, fd, va, length, offset);
}
/** openat(2): a new fd or -errno. */
export function openat(dirfd: number, pathVa: number, flags: number, mode: number): Call {
  return syscall(Sys.openat, dirfd, pathVa, flags, mode);
}
/** close(2). */
export function close(fd: number): Call {
  return syscall(Sys.close, fd);
}
/** lseek(2): the new offset or -errno. */
export function lseek(fd: number, offset: number, whence: number): Call {
  return syscall(Sys.lseek, fd, offset, whence);
}
/** pipe2(2): writes the two fds (i32 each) at `fdsVa`. */
export function pipe2(fdsVa: number, flags: number): Call {
  return syscall(Sys.pipe2, fdsVa, flags);
}
/** dup(2). */
export function dup(fd: number): Call {
  return syscall(Sys.dup, fd);
}
/** dup3(2) (dup2 is dup3 with flags 0 and oldfd !== newfd on arm64). */
export function dup3(oldfd: number, newfd: number, flags: number): Call {
  return syscall(Sys.dup3, oldfd, newfd, flags);
}
/** fcntl(2). */
export function fcntl(fd: number, command: number, arg: number): Call {
  return syscall(Sys.fcntl, fd, command, arg);
}
/** ioctl(2). */
export function ioctl(fd: number, request: number, arg: number): Call {
  return syscall(Sys.ioctl, fd, request, arg);
}
/** getdents64(2): bytes of linux_dirent64 records written at `va`, 0 at the end. */
export function getdents64(fd: number, va: number, length: number): Call {
  return syscall(Sys.getdents64, fd, va, length);
}
/** newfstatat(2): a struct stat at `statVa`. */
export function newfstatat(dirfd: number, pathVa: number, statVa: number, flags: number): Call {
  return syscall(Sys.newfstatat, dirfd, pathVa, statVa, flags);
}
/** fstat(2). */
export function fstatRaw(fd: number, statVa: number): Call {
  return syscall(Sys.fstat, fd, statVa);
}
/** mkdirat(2). */
export function mkdirat(dirfd: number, pathVa: number, mode: number): Call {
  return syscall(Sys.mkdirat, dirfd, pathVa, mode);
}
/** unlinkat(2) (AT_REMOVEDIR in `flags` for rmdir). */
export function unlinkat(dirfd: number, pathVa: number, flags: number): Call {
  return syscall(Sys.unlinkat, dirfd, pathVa, flags);
}
/** symlinkat(2). */
export function symlinkat(targetVa: number, dirfd: number, pathVa: number): Call {
  return syscall(Sys.symlinkat, targetVa, dirfd, pathVa);
}
/** linkat(2). */
export function linkat(
  olddirfd: number,
  oldVa: number,
  newdirfd: number,
  newVa: number,
  flags: number,
): Call {
  return syscall(Sys.linkat, olddirfd, oldVa, newdirfd, newVa, flags);
}
/** renameat(2). */
export function renameat(olddirfd: number, oldVa: number, newdirfd: number, newVa: number): Call {
  return syscall(Sys.renameat, olddirfd, oldVa, newdirfd, newVa);
}
/** readlinkat(2): bytes of the target written at `va` (not NUL-terminated). */
export function readlinkat(dirfd: number, pathVa: number, va: number, length: number): Call {
  return syscall(Sys.readlinkat, dirfd, pathVa, va, length);
}
/** faccessat(2). */
export function faccessat(dirfd: number, pathVa: number, mode: number): Call {
  return syscall(Sys.faccessat, dirfd, pathVa, mode);
}
/** ftruncate(2). */
export function ftruncate(fd: number, length: number): Call {
  return syscall(Sys.ftruncate, fd, length);
}
/** fsync(2). */
export function fsync(fd: number): Call {
  return syscall(Sys.fsync, fd);
}
/** chdir(2). */
export function chdirRaw(pathVa: number): Call {
  return syscall(Sys.chdir, pathVa);
}
/** getcwd(2): the length of the path written at `va` (including the NUL), or -errno. */
export function getcwdRaw(va: number, length: number): Call {
  return syscall(Sys.getcwd, va, length);
}
/** mount(2). */
export function mountRaw(
  sourceVa: number,
  targetVa: number,
  typeVa: number,
  flags: number,
  dataVa: number,
): Call {
  return syscall(Sys.mount, sourceVa, targetVa, typeVa, flags, dataVa);
}
/** umount2(2). */
export function umount2(targetVa: number, flags: number): Call {
  return syscall(Sys.umount2, targetVa, flags);
}
