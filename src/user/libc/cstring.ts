/**
 * C strings and pointer arrays in user memory: reading argv/envp, writing NUL-terminated strings
 * for the kernel. Reads never cross a page boundary past the terminating NUL, so a string at the
 * end of a mapping does not fault on the next page.
 */
import type { UserCpu } from '../program.js';

/** Page size of the user ABI. */
export const PAGE_SIZE = 4096;
/** Longest C string the libc reads (PATH_MAX-like bound for argv, env and kernel strings). */
export const MAX_CSTRING = 128 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 bytes of a JS string. */
export function encodeUtf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** JS string of UTF-8 bytes. */
export function decodeUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** The bytes of the NUL-terminated string at `va` (without the NUL), at most `max` bytes. */
export function readCStringBytes(cpu: UserCpu, va: number, max = MAX_CSTRING): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  for (let at = va; total < max;) {
    const chunk = Math.min(PAGE_SIZE - (at % PAGE_SIZE), 256, max - total);
    const bytes = cpu.readBytes(at, chunk);
    const nul = bytes.indexOf(0);
    if (nul >= 0) {
      parts.push(bytes.subarray(0, nul));
      total += nul;
      break;
    }
    parts.push(bytes);
    total += chunk;
    at += chunk;
  }
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** The NUL-terminated string at `va`, decoded as UTF-8. */
export function readCString(cpu: UserCpu, va: number, max = MAX_CSTRING): string {
  return decodeUtf8(readCStringBytes(cpu, va, max));
}

/** Write `text` and a NUL at `va`; returns the bytes written (including the NUL). */
export function writeCString(cpu: UserCpu, va: number, text: string | Uint8Array): number {
  const bytes = typeof text === 'string' ? encodeUtf8(text) : text;
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  cpu.writeBytes(va, out);
  return out.length;
}

/** Bytes a string takes as a C string (UTF-8 plus the NUL). */
export function cStringSize(text: string): number {
  return encodeUtf8(text).length + 1;
}

/** The u64 pointers of a NULL-terminated pointer array at `va` (argv, envp). */
export function readPointerArray(cpu: UserCpu, va: number, max = 65536): number[] {
  const out: number[] = [];
  if (va === 0) return out;
  for (let i = 0; i < max; i++) {
    const pointer = cpu.load64(va + 8 * i);
    if (pointer === 0) break;
    out.push(pointer);
  }
  return out;
}

/** The strings of a NULL-terminated array of C string pointers at `va`. */
export function readStringArray(cpu: UserCpu, va: number): string[] {
  return readPointerArray(cpu, va).map((pointer) => readCString(cpu, pointer));
}
