/**
 * The key-value data of kv-server, in user memory: a chained hash table whose bucket array and
 * entries are heap blocks. JS holds only the table's address and counters; keys and values are
 * read and written through the CPU.
 *
 * Entry layout: `[next u64][keyLength u32][valueLength u32][valueCapacity u32][pad u32][key][value]`.
 */
import { Cost } from '../../libc/cost.js';
import { copyUserMemory } from '../../libc/malloc.js';
import type { Proc } from '../../libc/process.js';
import type { Call } from '../../libc/syscall.js';

const ENTRY_NEXT = 0;
const ENTRY_KEY_LENGTH = 8;
const ENTRY_VALUE_LENGTH = 12;
const ENTRY_VALUE_CAPACITY = 16;
const ENTRY_HEADER = 24;

/** FNV-1a over the key bytes. */
export function hashKey(key: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (const b of key) hash = Math.imul(hash ^ b, 0x01000193) >>> 0;
  return hash;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Where a value is: its VA and length in user memory. */
export interface ValueRef {
  readonly va: number;
  readonly length: number;
}

/** A hash table of byte-string keys and values in user memory. */
export class KvStore {
  private readonly p: Proc;
  private readonly buckets: number;
  private readonly bucketCount: number;
  /** Number of keys. */
  size = 0;

  private constructor(p: Proc, buckets: number, bucketCount: number) {
    this.p = p;
    this.buckets = buckets;
    this.bucketCount = bucketCount;
  }

  /** A table with `bucketCount` buckets (calloc'd); undefined when out of memory. */
  static *create(p: Proc, bucketCount = 1024): Call<KvStore | undefined> {
    const buckets = yield* p.heap.calloc(bucketCount, 8);
    return buckets === 0 ? undefined : new KvStore(p, buckets, bucketCount);
  }

  private bucketOf(key: Uint8Array): number {
    this.p.cpu.compute(key.length * Cost.perByte);
    return this.buckets + 8 * (hashKey(key) % this.bucketCount);
  }

  /** The slot (VA holding the pointer) that points to the entry of `key`, and the entry (0 if absent). */
  private find(key: Uint8Array): { slot: number; entry: number } {
    const cpu = this.p.cpu;
    let slot = this.bucketOf(key);
    for (let entry = cpu.load64(slot); entry !== 0; entry = cpu.load64(slot)) {
      const keyLength = cpu.load32(entry + ENTRY_KEY_LENGTH);
      if (keyLength === key.length && sameBytes(cpu.readBytes(entry + ENTRY_HEADER, keyLength), key))
        return { slot, entry };
      slot = entry + ENTRY_NEXT;
    }
    return { slot, entry: 0 };
  }

  /** The value of `key`, or undefined. */
  get(key: Uint8Array): ValueRef | undefined {
    const { entry } = this.find(key);
    if (entry === 0) return undefined;
    const cpu = this.p.cpu;
    return { va: entry + ENTRY_HEADER + key.length, length: cpu.load32(entry + ENTRY_VALUE_LENGTH) };
  }

  /** Copy a value out of user memory (for INCR's parse). */
  readValue(ref: ValueRef): Uint8Array {
    this.p.cpu.compute(ref.length * Cost.perByte);
    return this.p.cpu.readBytes(ref.va, ref.length);
  }

  /** Set `key` to the bytes at [va, va + length) of user memory; false when out of memory. */
  *setFrom(key: Uint8Array, va: number, length: number): Call<boolean> {
    const cpu = this.p.cpu;
    const { slot, entry } = this.find(key);
    if (entry !== 0 && cpu.load32(entry + ENTRY_VALUE_CAPACITY) >= length) {
      copyUserMemory(cpu, entry + ENTRY_HEADER + key.length, va, length);
      cpu.store32(entry + ENTRY_VALUE_LENGTH, length);
      return true;
    }
    const fresh = yield* this.p.heap.malloc(ENTRY_HEADER + key.length + length);
    if (fresh === 0) return false;
    cpu.store64(fresh + ENTRY_NEXT, entry === 0 ? 0 : cpu.load64(entry + ENTRY_NEXT));
    cpu.store32(fresh + ENTRY_KEY_LENGTH, key.length);
    cpu.store32(fresh + ENTRY_VALUE_LENGTH, length);
    cpu.store32(fresh + ENTRY_VALUE_CAPACITY, length);
    cpu.store32(fresh + ENTRY_VALUE_CAPACITY + 4, 0);
    cpu.writeBytes(fresh + ENTRY_HEADER, key);
    copyUserMemory(cpu, fresh + ENTRY_HEADER + key.length, va, length);
    cpu.store64(slot, fresh);
    if (entry === 0) this.size++;
    else yield* this.p.heap.free(entry);
    return true;
  }

  /** Set `key` to JS bytes (staged through the scratch area); false when out of memory. */
  *set(key: Uint8Array, value: Uint8Array): Call<boolean> {
    const mark = this.p.scratch.mark();
    try {
      const va = value.length <= 32 * 1024 ? this.p.scratch.bytes(this.p.cpu, value, 1) : 0;
      if (va !== 0) return yield* this.setFrom(key, va, value.length);
      const block = yield* this.p.heap.malloc(value.length);
      if (block === 0) return false;
      this.p.cpu.writeBytes(block, value);
      const ok = yield* this.setFrom(key, block, value.length);
      yield* this.p.heap.free(block);
      return ok;
    } finally {
      this.p.scratch.release(mark);
    }
  }

  /** Delete `key`; whether it existed. */
  *delete(key: Uint8Array): Call<boolean> {
    const { slot, entry } = this.find(key);
    if (entry === 0) return false;
    this.p.cpu.store64(slot, this.p.cpu.load64(entry + ENTRY_NEXT));
    yield* this.p.heap.free(entry);
    this.size--;
    return true;
  }
}
