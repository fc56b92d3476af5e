/**
 * Raw process, memory, time and identity system calls. fork and threads (clone with a child
 * generator) are in fork.ts; execve with strings in exec.ts.
 */
import { Sys } from '../../kernel/uapi/syscalls.js';
import { syscall, type Call } from './syscall.js';

/** getpid(2). */
export function getpid(): Call {
  return syscall(Sys.getpid);
}
/** getppid(2). */
export function getppid(): Call {
  return syscall(Sys.getppid);
}
/** gettid(2). */
export function gettid(): Call {
  return syscall(Sys.gettid);
}
/** getuid(2). */
export function getuid(): Call {
  return syscall(Sys.getuid);
}
/** geteuid(2). */
export function geteuid(): Call {
  return syscall(Sys.geteuid);
}
/** getgid(2). */
export function getgid(): Call {
  return syscall(Sys.getgid);
}
/** getegid(2). */
export function getegid(): Call {
  return syscall(Sys.getegid);
}
/** exit(2): ends the calling thread. Does not return. */
export function* exitThread(code: number): Call<never> {
  yield* syscall(Sys.exit, code);
  throw new Error('exit returned');
}
/** exit_group(2): ends the process. Does not return. */
export function* exitGroup(code: number): Call<never> {
  yield* syscall(Sys.exit_group, code);
  throw new Error('exit_group returned');
}
/** execve(2) with the VAs of a path and of argv/envp arrays; returns only on failure (-errno). */
export function execveRaw(pathVa: number, argvVa: number, envpVa: number): Call {
  return syscall(Sys.execve, pathVa, argvVa, envpVa);
}
/** wait4(2): the pid reaped (status at `statusVa` if not 0), 0 with WNOHANG, or -errno. */
export function wait4(pid: number, statusVa: number, options: number, rusageVa = 0): Call {
  return syscall(Sys.wait4, pid, statusVa, options, rusageVa);
}
/** kill(2). */
export function kill(pid: number, signal: number): Call {
  return syscall(Sys.kill, pid, signal);
}
/** sched_yield(2). */
export function schedYield(): Call {
  return syscall(Sys.sched_yield);
}
/** brk(2): the new break (the old one when it cannot move; brk(0) asks for it). */
export function brk(address: number): Call {
  return syscall(Sys.brk, address);
}
/** mmap(2): the mapping's address or -errno. */
export function mmap(
  address: number,
  length: number,
  prot: number,
  flags: number,
  fd: number,
  offset: number,
): Call {
  return syscall(Sys.mmap, address, length, prot, flags, fd, offset);
}
/** munmap(2). */
export function munmap(address: number, length: number): Call {
  return syscall(Sys.munmap, address, length);
}
/** mprotect(2). */
export function mprotect(address: number, length: number, prot: number): Call {
  return syscall(Sys.mprotect, address, length, prot);
}
/** clock_gettime(2): a struct timespec at `va`. */
export function clockGettime(clock: number, va: number): Call {
  return syscall(Sys.clock_gettime, clock, va);
}
/** nanosleep(2): sleeps for the struct timespec at `requestVa`. */
export function nanosleepRaw(requestVa: number, remainVa: number): Call {
  return syscall(Sys.nanosleep, requestVa, remainVa);
}
/** uname(2): a struct utsname at `va`. */
export function uname(va: number): Call {
  return syscall(Sys.uname, va);
}
/** sethostname(2). */
export function sethostname(nameVa: number, length: number): Call {
  return syscall(Sys.sethostname, nameVa, length);
}
/** umask(2). */
export function umask(mask: number): Call {
  return syscall(Sys.umask, mask);
}
/** setsid(2). */
export function setsid(): Call {
  return syscall(Sys.setsid);
}
/** setpgid(2). */
export function setpgid(pid: number, pgid: number): Call {
  return syscall(Sys.setpgid, pid, pgid);
}
