/** Every system call of the kernel, by Linux arm64 number (uapi/syscalls.ts). */
import { FS_SYSCALLS } from './fs/syscalls.js';
import { IPC_SYSCALLS } from './ipc/pipe-syscalls.js';
import type { Kernel } from './kernel.js';
import {
  sysBrk,
  sysMmap,
  sysMprotect,
  sysMunmap,
  sysShmat,
  sysShmctl,
  sysShmdt,
  sysShmget,
} from './mm/syscalls.js';
import { NET_SYSCALLS } from './net/net-syscalls.js';
import { sysClone, sysUnshare } from './proc/clone.js';
import { sysExecve } from './proc/exec.js';
import { installExit, sysExit, sysExitGroup, sysWait4 } from './proc/exit.js';
import * as id from './proc/identity.js';
import { sysKill, sysRtSigaction, sysRtSigprocmask, sysRtSigreturn, sysTgkill } from './proc/signals.js';
import { sysSetns } from './proc/setns.js';
import { Sys } from './uapi/syscalls.js';

/** Register every system call with `kernel` and install its exit path. */
export function installSyscalls(kernel: Kernel): void {
  installExit(kernel);
  kernel.registerSyscalls(FS_SYSCALLS);
  kernel.registerSyscalls(IPC_SYSCALLS);
  kernel.registerSyscalls(NET_SYSCALLS);
  const core: [number, Parameters<Kernel['registerSyscall']>[1]][] = [
    [Sys.clone, sysClone],
    [Sys.execve, sysExecve],
    [Sys.exit, sysExit],
    [Sys.exit_group, sysExitGroup],
    [Sys.wait4, sysWait4],
    [Sys.kill, sysKill],
    [Sys.tgkill, sysTgkill],
    [Sys.rt_sigaction, sysRtSigaction],
    [Sys.rt_sigprocmask, sysRtSigprocmask],
    [Sys.rt_sigreturn, sysRtSigreturn],
    [Sys.getpid, id.sysGetpid],
    [Sys.getppid, id.sysGetppid],
    [Sys.gettid, id.sysGettid],
    [Sys.set_tid_address, id.sysGettid],
    [Sys.getuid, id.sysGetuid],
    [Sys.geteuid, id.sysGeteuid],
    [Sys.getgid, id.sysGetgid],
    [Sys.getegid, id.sysGetegid],
    [Sys.setuid, id.sysSetuid],
    [Sys.setgid, id.sysSetgid],
    [Sys.setresuid, id.sysSetresuid],
    [Sys.setresgid, id.sysSetresgid],
    [Sys.uname, id.sysUname],
    [Sys.sethostname, id.sysSethostname],
    [Sys.clock_gettime, id.sysClockGettime],
    [Sys.nanosleep, id.sysNanosleep],
    [Sys.sched_yield, id.sysSchedYield],
    [Sys.unshare, sysUnshare],
    [Sys.setns, sysSetns],
    [Sys.brk, sysBrk],
    [Sys.mmap, sysMmap],
    [Sys.munmap, sysMunmap],
    [Sys.mprotect, sysMprotect],
    [Sys.shmget, sysShmget],
    [Sys.shmat, sysShmat],
    [Sys.shmdt, sysShmdt],
    [Sys.shmctl, sysShmctl],
  ];
  for (const [nr, fn] of core) kernel.registerSyscall(nr, fn);
}
