/**
 * The scratch area: a region of user memory where the libc builds the strings and structures it
 * passes to the kernel (paths, argv arrays, sockaddrs, timespecs). It is a stack: a routine takes a
 * mark, allocates, and releases back to the mark when the call is done, so nested helpers compose.
 */
import type { UserCpu } from '../program.js';
import { encodeUtf8 } from './cstring.js';

/** A bump allocator over [base, base + size) with mark/release. */
export class Scratch {
  readonly base: number;
  readonly size: number;
  private top = 0;

  constructor(base: number, size: number) {
    this.base = base;
    this.size = size;
  }

  /** The current top (to pass to {@link release}). */
  mark(): number {
    return this.top;
  }

  /** Free everything allocated since `mark`. */
  release(mark: number): void {
    this.top = mark;
  }

  /** `length` bytes aligned to `align`; throws when the area is exhausted (a program bug). */
  alloc(length: number, align = 8): number {
    const start = Math.ceil(this.top / align) * align;
    if (start + length > this.size) {
      throw new Error(`libc scratch area exhausted (${start + length} > ${this.size} bytes)`);
    }
    this.top = start + length;
    return this.base + start;
  }

  /** Copy `text` as a NUL-terminated string into the area; its VA. */
  string(cpu: UserCpu, text: string | Uint8Array): number {
    const bytes = typeof text === 'string' ? encodeUtf8(text) : text;
    const va = this.alloc(bytes.length + 1, 1);
    const out = new Uint8Array(bytes.length + 1);
    out.set(bytes);
    cpu.writeBytes(va, out);
    return va;
  }

  /** Copy `bytes` into the area; their VA. */
  bytes(cpu: UserCpu, bytes: Uint8Array, align = 8): number {
    const va = this.alloc(bytes.length, align);
    cpu.writeBytes(va, bytes);
    return va;
  }

  /** A NULL-terminated array of pointers to copies of `strings`; its VA. */
  stringArray(cpu: UserCpu, strings: readonly string[]): number {
    const pointers = strings.map((s) => this.string(cpu, s));
    const va = this.alloc(8 * (pointers.length + 1));
    pointers.forEach((pointer, i) => cpu.store64(va + 8 * i, pointer));
    cpu.store64(va + 8 * pointers.length, 0);
    return va;
  }

  /** A copy of this allocator's state (for a forked child, whose memory is a copy). */
  clone(): Scratch {
    const copy = new Scratch(this.base, this.size);
    copy.top = this.top;
    return copy;
  }
}
