/**
 * Socket addresses as user space passes them (include/uapi/linux/un.h, linux/in.h):
 * sockaddr_un = u16 sun_family, char sun_path[108]; sockaddr_in = u16 sin_family, u16 sin_port
 * (big-endian), u32 sin_addr (big-endian), 8 bytes of zero.
 */
import { Errno } from '../uapi/errno.js';
import { AF, INADDR_LOOPBACK, SOCKADDR_IN_BYTES, SOCKADDR_UN_BYTES } from '../uapi/flags.js';

/** A socket family this kernel implements. */
export type Family = typeof AF.UNIX | typeof AF.INET;

/**
 * A UNIX address: the sun_path bytes as a latin1 string (lossless), "" for an unnamed socket; an
 * abstract name keeps its leading NUL.
 */
export interface UnixAddress {
  readonly family: typeof AF.UNIX;
  readonly name: string;
}

/** An IPv4 address and port, in host order. */
export interface InetAddress {
  readonly family: typeof AF.INET;
  readonly addr: number;
  readonly port: number;
}

/** A decoded socket address. */
export type SockAddr = UnixAddress | InetAddress;

/** INADDR_ANY. */
export const INADDR_ANY = 0;
/** Offset of sun_path in sockaddr_un. */
const SUN_PATH_OFFSET = 2;
/** The largest address a caller may pass (sizeof(struct sockaddr_storage)). */
export const MAX_SOCKADDR_BYTES = 128;

/** The unnamed UNIX address. */
export const UNNAMED: UnixAddress = { family: AF.UNIX, name: '' };

/** True when an IPv4 address reaches this host's loopback (127.0.0.1 or INADDR_ANY). */
export function isLoopback(addr: number): boolean {
  return addr === INADDR_LOOPBACK || addr === INADDR_ANY;
}

/** True for an abstract UNIX name (sun_path starts with NUL). */
export function isAbstract(address: UnixAddress): boolean {
  return address.name.charCodeAt(0) === 0;
}

/** Decode a sockaddr_un of `bytes.length` bytes; -EINVAL for a bad length or family. */
export function decodeUnix(bytes: Uint8Array): UnixAddress | number {
  if (bytes.length < SUN_PATH_OFFSET || bytes.length > SOCKADDR_UN_BYTES) return -Errno.EINVAL;
  if ((bytes[0]! | (bytes[1]! << 8)) !== AF.UNIX) return -Errno.EINVAL;
  let path = bytes.subarray(SUN_PATH_OFFSET);
  // A pathname ends at its first NUL; an abstract name is every byte the length covers.
  if (path.length > 0 && path[0] !== 0) {
    const end = path.indexOf(0);
    if (end >= 0) path = path.subarray(0, end);
  }
  return { family: AF.UNIX, name: String.fromCharCode(...path) };
}

/**
 * Decode a sockaddr_in of `bytes.length` bytes: -EINVAL if it is too short, -EAFNOSUPPORT for
 * another family.
 */
export function decodeInet(bytes: Uint8Array): InetAddress | number {
  if (bytes.length < SOCKADDR_IN_BYTES) return -Errno.EINVAL;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(0, true) !== AF.INET) return -Errno.EAFNOSUPPORT;
  return { family: AF.INET, port: view.getUint16(2, false), addr: view.getUint32(4, false) };
}

/** Encode an address as the kernel returns it (getsockname, accept). */
export function encodeSockAddr(address: SockAddr): Uint8Array {
  if (address.family === AF.INET) {
    const out = new Uint8Array(SOCKADDR_IN_BYTES);
    const view = new DataView(out.buffer);
    view.setUint16(0, AF.INET, true);
    view.setUint16(2, address.port, false);
    view.setUint32(4, address.addr, false);
    return out;
  }
  // Linux returns sun_path with its NUL for a pathname, exactly the name for an abstract one.
  const terminator = address.name.length > 0 && !isAbstract(address) ? 1 : 0;
  const out = new Uint8Array(SUN_PATH_OFFSET + address.name.length + terminator);
  out[0] = AF.UNIX;
  for (let i = 0; i < address.name.length; i++) out[SUN_PATH_OFFSET + i] = address.name.charCodeAt(i);
  return out;
}
