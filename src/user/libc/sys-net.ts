/** Raw socket system calls. Address encoding and string-level helpers are in net.ts. */
import { Sys } from '../../kernel/uapi/syscalls.js';
import { syscall, type Call } from './syscall.js';

/** socket(2). */
export function socket(domain: number, type: number, protocol: number): Call {
  return syscall(Sys.socket, domain, type, protocol);
}
/** socketpair(2): writes the two fds (i32 each) at `fdsVa`. */
export function socketpair(domain: number, type: number, protocol: number, fdsVa: number): Call {
  return syscall(Sys.socketpair, domain, type, protocol, fdsVa);
}
/** bind(2). */
export function bind(fd: number, addrVa: number, addrLength: number): Call {
  return syscall(Sys.bind, fd, addrVa, addrLength);
}
/** listen(2). */
export function listen(fd: number, backlog: number): Call {
  return syscall(Sys.listen, fd, backlog);
}
/** accept4(2): the connected fd or -errno. */
export function accept4(fd: number, addrVa: number, addrLengthVa: number, flags: number): Call {
  return syscall(Sys.accept4, fd, addrVa, addrLengthVa, flags);
}
/** connect(2). */
export function connect(fd: number, addrVa: number, addrLength: number): Call {
  return syscall(Sys.connect, fd, addrVa, addrLength);
}
/** sendto(2) (send with no address). */
export function sendto(
  fd: number,
  va: number,
  length: number,
  flags: number,
  addrVa = 0,
  addrLength = 0,
): Call {
  return syscall(Sys.sendto, fd, va, length, flags, addrVa, addrLength);
}
/** recvfrom(2) (recv with no address). */
export function recvfrom(
  fd: number,
  va: number,
  length: number,
  flags: number,
  addrVa = 0,
  addrLengthVa = 0,
): Call {
  return syscall(Sys.recvfrom, fd, va, length, flags, addrVa, addrLengthVa);
}
/** shutdown(2). */
export function shutdown(fd: number, how: number): Call {
  return syscall(Sys.shutdown, fd, how);
}
/** getsockname(2). */
export function getsockname(fd: number, addrVa: number, addrLengthVa: number): Call {
  return syscall(Sys.getsockname, fd, addrVa, addrLengthVa);
}
