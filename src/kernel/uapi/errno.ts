/** Linux errno values (include/uapi/asm-generic/errno-base.h, errno.h). Syscalls return -errno. */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  ENOEXEC: 8,
  EBADF: 9,
  ECHILD: 10,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOTTY: 25,
  EFBIG: 27,
  ENOSPC: 28,
  ESPIPE: 29,
  EROFS: 30,
  EMLINK: 31,
  EPIPE: 32,
  ERANGE: 34,
  ENAMETOOLONG: 36,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  ELOOP: 40,
  ENOTSOCK: 88,
  EDESTADDRREQ: 89,
  EPROTOTYPE: 91,
  EPROTONOSUPPORT: 93,
  EOPNOTSUPP: 95,
  EAFNOSUPPORT: 97,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ECONNABORTED: 103,
  ECONNRESET: 104,
  EISCONN: 106,
  ENOTCONN: 107,
  ECONNREFUSED: 111,
} as const;
/** An errno name. */
export type ErrnoName = keyof typeof Errno;

/**
 * Kernel-internal: the call blocked and will be restarted (Linux ERESTARTSYS). Never reaches user
 * space: the kernel rewinds the task's PC to the SVC and parks it until it is woken.
 */
export const ERESTARTSYS = 512;

/** Name of an errno value ("EBADF"), or `E<n>`. */
export function errnoName(value: number): string {
  const n = Math.abs(value);
  for (const [name, v] of Object.entries(Errno)) if (v === n) return name;
  return `E${n}`;
}

/** The message strerror() gives for an errno value (the common ones; others print their name). */
export function strerror(value: number): string {
  return ERRNO_MESSAGES[Math.abs(value)] ?? errnoName(value);
}

const ERRNO_MESSAGES: Readonly<Record<number, string>> = {
  1: 'Operation not permitted',
  2: 'No such file or directory',
  3: 'No such process',
  4: 'Interrupted system call',
  5: 'I/O error',
  8: 'Exec format error',
  9: 'Bad file descriptor',
  10: 'No child processes',
  11: 'Resource temporarily unavailable',
  12: 'Out of memory',
  13: 'Permission denied',
  14: 'Bad address',
  16: 'Resource busy',
  17: 'File exists',
  18: 'Invalid cross-device link',
  20: 'Not a directory',
  21: 'Is a directory',
  22: 'Invalid argument',
  24: 'Too many open files',
  25: 'Not a tty',
  28: 'No space left on device',
  29: 'Illegal seek',
  30: 'Read-only file system',
  32: 'Broken pipe',
  36: 'File name too long',
  38: 'Function not implemented',
  39: 'Directory not empty',
  40: 'Too many levels of symbolic links',
  98: 'Address in use',
  104: 'Connection reset by peer',
  107: 'Transport endpoint is not connected',
  111: 'Connection refused',
};
