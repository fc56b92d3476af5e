/**
 * The toy object format of cc and ld (pure): `RCXOBJ1\n`, the source name, a checksum and a
 * "code" section derived from the source bytes. Deterministic, so builds are reproducible.
 */

/** Magic of an object file. */
export const OBJECT_MAGIC = 'RCXOBJ1\n';
/** Magic of a linked output that is not an executable. */
export const LINKED_MAGIC = 'RCXLNK1\n';
/** Cycles cc declares per source byte (parsing, optimising, code generation). */
export const COMPILE_CYCLES_PER_BYTE = 400;
/** Cycles ld declares per object byte. */
export const LINK_CYCLES_PER_BYTE = 20;

const encoder = new TextEncoder();

/** FNV-1a checksum of bytes. */
export function checksum(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (const b of bytes) hash = Math.imul(hash ^ b, 0x01000193) >>> 0;
  return hash;
}

/** The object code of a source: one "instruction" byte per two source bytes. */
export function compile(name: string, source: Uint8Array): Uint8Array {
  const header = encoder.encode(
    `${OBJECT_MAGIC}${name}\n${checksum(source).toString(16).padStart(8, '0')}\n`,
  );
  const code = new Uint8Array(Math.ceil(source.length / 2));
  for (let i = 0; i < code.length; i++) code[i] = (source[2 * i]! ^ (source[2 * i + 1] ?? 0) ^ i) & 0xff;
  const out = new Uint8Array(header.length + code.length);
  out.set(header);
  out.set(code, header.length);
  return out;
}

/** True when `bytes` start with the object magic. */
export function isObject(bytes: Uint8Array): boolean {
  const magic = encoder.encode(OBJECT_MAGIC);
  return bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);
}

/** Deterministic C-like source text of module `index`, about `bytes` long. */
export function generateSource(index: number, bytes: number): string {
  const lines: string[] = [`/* module ${index} */`, '#include "common.h"', ''];
  let length = lines.join('\n').length;
  for (let k = 0; length < bytes; k++) {
    const line = `int f_${index}_${k}(int x) { return x * ${k + 1} + ${index}; }`;
    lines.push(line);
    length += line.length + 1;
  }
  return `${lines.join('\n')}\n`;
}
