/**
 * The file-system system calls, keyed by `Sys.*` number, for the kernel's dispatcher.
 */
import type { SyscallFn } from '../core/syscall-fn.js';
import { Sys } from '../uapi/syscalls.js';
import { sysFaccessat, sysFchmodat, sysFchownat, sysNewfstatat } from './sys-attr.js';
import {
  sysClose,
  sysDup,
  sysDup3,
  sysFcntl,
  sysFstat,
  sysFsync,
  sysFtruncate,
  sysGetdents64,
  sysIoctl,
  sysLseek,
  sysPread64,
  sysPwrite64,
  sysRead,
  sysWrite,
} from './sys-fd.js';
import { sysMount, sysPivotRoot, sysUmount2 } from './sys-mount.js';
import { sysLinkat, sysMkdirat, sysReadlinkat, sysRenameat, sysSymlinkat, sysUnlinkat } from './sys-names.js';
import { sysChdir, sysGetcwd, sysOpenat, sysUmask } from './sys-open.js';

/** Handlers of the file-system calls. */
export const FS_SYSCALLS: Readonly<Record<number, SyscallFn>> = {
  [Sys.openat]: sysOpenat,
  [Sys.close]: sysClose,
  [Sys.read]: sysRead,
  [Sys.write]: sysWrite,
  [Sys.pread64]: sysPread64,
  [Sys.pwrite64]: sysPwrite64,
  [Sys.lseek]: sysLseek,
  [Sys.newfstatat]: sysNewfstatat,
  [Sys.fstat]: sysFstat,
  [Sys.getdents64]: sysGetdents64,
  [Sys.mkdirat]: sysMkdirat,
  [Sys.unlinkat]: sysUnlinkat,
  [Sys.renameat]: sysRenameat,
  [Sys.symlinkat]: sysSymlinkat,
  [Sys.readlinkat]: sysReadlinkat,
  [Sys.linkat]: sysLinkat,
  [Sys.fchmodat]: sysFchmodat,
  [Sys.fchownat]: sysFchownat,
  [Sys.faccessat]: sysFaccessat,
  [Sys.chdir]: sysChdir,
  [Sys.getcwd]: sysGetcwd,
  [Sys.dup]: sysDup,
  [Sys.dup3]: sysDup3,
  [Sys.fcntl]: sysFcntl,
  [Sys.fsync]: sysFsync,
  [Sys.ftruncate]: sysFtruncate,
  [Sys.ioctl]: sysIoctl,
  [Sys.umask]: sysUmask,
  [Sys.mount]: sysMount,
  [Sys.umount2]: sysUmount2,
  [Sys.pivot_root]: sysPivotRoot,
};
