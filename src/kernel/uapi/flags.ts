/**
 * Flag and constant values of the Linux arm64 user ABI used by the kernel and libc
 * (include/uapi/asm-generic/fcntl.h, mman-common.h, linux/sched.h, wait.h, socket.h, ioctls.h).
 */

/** open(2) flags (asm-generic/fcntl.h; arm64 uses the generic values except the O_DIRECTORY group). */
export const O = {
  RDONLY: 0,
  WRONLY: 1,
  RDWR: 2,
  ACCMODE: 3,
  CREAT: 0o100,
  EXCL: 0o200,
  NOCTTY: 0o400,
  TRUNC: 0o1000,
  APPEND: 0o2000,
  NONBLOCK: 0o4000,
  /** arm64: O_DIRECTORY 040000, O_NOFOLLOW 0100000 (arch/arm64/include/uapi/asm/fcntl.h). */
  DIRECTORY: 0o40000,
  NOFOLLOW: 0o100000,
  CLOEXEC: 0o2000000,
} as const;

/** *at() directory fd meaning "the current directory". */
export const AT_FDCWD = -100;
/** *at() flags. */
export const AT = {
  SYMLINK_NOFOLLOW: 0x100,
  REMOVEDIR: 0x200,
  SYMLINK_FOLLOW: 0x400,
  EMPTY_PATH: 0x1000,
} as const;

/** fcntl(2) commands and fd flags. */
export const F = { DUPFD: 0, GETFD: 1, SETFD: 2, GETFL: 3, SETFL: 4, DUPFD_CLOEXEC: 1030 } as const;
export const FD_CLOEXEC = 1;

/** lseek whence. */
export const SEEK = { SET: 0, CUR: 1, END: 2 } as const;

/** File type bits of st_mode. */
export const S = {
  IFMT: 0o170000,
  IFSOCK: 0o140000,
  IFLNK: 0o120000,
  IFREG: 0o100000,
  IFBLK: 0o60000,
  IFDIR: 0o40000,
  IFCHR: 0o20000,
  IFIFO: 0o10000,
  ISUID: 0o4000,
  ISGID: 0o2000,
  ISVTX: 0o1000,
} as const;

/** d_type values of getdents64. */
export const DT = { UNKNOWN: 0, FIFO: 1, CHR: 2, DIR: 4, BLK: 6, REG: 8, LNK: 10, SOCK: 12 } as const;

/** mmap/mprotect protections and flags. */
export const PROT = { NONE: 0, READ: 1, WRITE: 2, EXEC: 4 } as const;
export const MAP = { SHARED: 0x01, PRIVATE: 0x02, FIXED: 0x10, ANONYMOUS: 0x20 } as const;
/** mmap's failure value is a negated errno like every call; MAP_FAILED is what libc returns. */
export const MAP_FAILED = -1;

/** clone(2) flags (linux/sched.h). */
export const CLONE = {
  VM: 0x100,
  FS: 0x200,
  FILES: 0x400,
  SIGHAND: 0x800,
  VFORK: 0x4000,
  PARENT: 0x8000,
  THREAD: 0x10000,
  NEWNS: 0x20000,
  SETTLS: 0x80000,
  PARENT_SETTID: 0x100000,
  CHILD_CLEARTID: 0x200000,
  CHILD_SETTID: 0x1000000,
  NEWUTS: 0x4000000,
  NEWIPC: 0x8000000,
  NEWUSER: 0x10000000,
  NEWPID: 0x20000000,
  NEWNET: 0x40000000,
} as const;
/** The low byte of clone flags: the signal sent to the parent on exit. */
export const CSIGNAL = 0xff;

/** wait4 options. */
export const WNOHANG = 1;

/** Signals (arm64 = asm-generic numbering). */
export const SIG = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  ILL: 4,
  TRAP: 5,
  ABRT: 6,
  BUS: 7,
  FPE: 8,
  KILL: 9,
  USR1: 10,
  SEGV: 11,
  USR2: 12,
  PIPE: 13,
  ALRM: 14,
  TERM: 15,
  CHLD: 17,
  CONT: 18,
  STOP: 19,
} as const;
/** Largest signal number. */
export const NSIG = 64;
/** sa_handler values. */
export const SIG_DFL = 0;
export const SIG_IGN = 1;
/** sa_flags (include/uapi/asm-generic/signal.h). */
export const SA = {
  /** sa_restorer holds the return trampoline (x30 at handler entry). */
  RESTORER: 0x0400_0000,
  /** A blocking call interrupted by the handler is restarted, not failed with EINTR. */
  RESTART: 0x1000_0000,
} as const;

/** Encode a wait status: exited with `code`. */
export function wExited(code: number): number {
  return (code & 0xff) << 8;
}
/** Encode a wait status: killed by `signal`. */
export function wSignaled(signal: number): number {
  return signal & 0x7f;
}
/** WIFEXITED / WEXITSTATUS / WIFSIGNALED / WTERMSIG. */
export function wIfExited(status: number): boolean {
  return (status & 0x7f) === 0;
}
export function wExitStatus(status: number): number {
  return (status >> 8) & 0xff;
}
export function wIfSignaled(status: number): boolean {
  return (status & 0x7f) !== 0 && (status & 0x7f) !== 0x7f;
}
export function wTermSig(status: number): number {
  return status & 0x7f;
}

/** Socket domains, types and options. */
export const AF = { UNIX: 1, INET: 2 } as const;
export const SOCK = { STREAM: 1, DGRAM: 2, NONBLOCK: 0o4000, CLOEXEC: 0o2000000 } as const;
export const SHUT = { RD: 0, WR: 1, RDWR: 2 } as const;
/** send/recv flags. */
export const MSG = { PEEK: 2, DONTWAIT: 0x40, NOSIGNAL: 0x4000 } as const;
/** INADDR_LOOPBACK, host order. */
export const INADDR_LOOPBACK = 0x7f00_0001;
/** sizeof(struct sockaddr_in) and sockaddr_un. */
export const SOCKADDR_IN_BYTES = 16;
export const SOCKADDR_UN_BYTES = 110;

/** ioctl requests for a terminal. */
export const TCGETS = 0x5401;
export const TIOCGWINSZ = 0x5413;

/** clock ids. */
export const CLOCK = { REALTIME: 0, MONOTONIC: 1 } as const;

/** mount flags and umount2 flags. */
export const MS = { RDONLY: 1, NOSUID: 2, NODEV: 4, NOEXEC: 8, REMOUNT: 32, BIND: 4096, REC: 16384 } as const;
export const MNT_DETACH = 2;

/** shmget/shmctl. */
export const IPC = { CREAT: 0o1000, EXCL: 0o2000, PRIVATE: 0, RMID: 0 } as const;
