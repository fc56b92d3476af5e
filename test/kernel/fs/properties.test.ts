// Properties: random operation sequences agree with a model of the file tree, and no file
// contents ever sit in the kernel's JS objects (DESIGN.md §3).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProcessingElement } from '../../../src/hw/pe.js';
import { Machine } from '../../../src/hw/machine.js';
import { populate } from '../../../src/kernel/fs/vfs.js';
import { AT, O } from '../../../src/kernel/uapi/flags.js';
import { Sys } from '../../../src/kernel/uapi/syscalls.js';
import { FsHarness } from './harness.js';

const NAMES = ['a', 'b', 'c', 'd'];

type Op =
  | { kind: 'write'; name: string; data: string; append: boolean }
  | { kind: 'rename'; from: string; to: string }
  | { kind: 'unlink'; name: string }
  | { kind: 'link'; from: string; to: string }
  | { kind: 'truncate'; name: string; size: number };

const name = fc.constantFrom(...NAMES);
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('write' as const),
    name,
    data: fc.string({ maxLength: 40 }),
    append: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('rename' as const), from: name, to: name }),
  fc.record({ kind: fc.constant('unlink' as const), name }),
  fc.record({ kind: fc.constant('link' as const), from: name, to: name }),
  fc.record({ kind: fc.constant('truncate' as const), name, size: fc.nat(50) }),
);

describe('model check', () => {
  it('create/write/rename/unlink/link/truncate keep contents equal to a model', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 25 }), fc.boolean(), (ops, overlay) => {
        const h = new FsHarness();
        let task = h.task();
        let dir = '/tmp/m';
        if (overlay) {
          // The same sequence in a container root, starting from a lower layer with two files.
          const layer = h.vfs.createLayer(h.fsCtx());
          populate(h.fsCtx(), layer.root, '/w/a', new TextEncoder().encode('lower-a'), 0o644);
          populate(h.fsCtx(), layer.root, '/w/b', new TextEncoder().encode('lower-b'), 0o644);
          task = h.task({ cid: 9, mnt: h.vfs.createContainerRoot(h.fsCtx(), [layer], 9) });
          dir = '/w';
        } else {
          h.mkdir(task, dir);
        }
        // Model: name → file object (shared by hard links) holding bytes.
        const model = new Map<string, { bytes: number[] }>();
        if (overlay) {
          model.set('a', { bytes: [...new TextEncoder().encode('lower-a')] });
          model.set('b', { bytes: [...new TextEncoder().encode('lower-b')] });
        }
        const path = (n: string): string => `${dir}/${n}`;
        for (const o of ops) {
          switch (o.kind) {
            case 'write': {
              const flags = O.WRONLY | O.CREAT | (o.append ? O.APPEND : O.TRUNC);
              const fd = h.open(task, path(o.name), flags);
              expect(fd).toBeGreaterThanOrEqual(0);
              const data = new TextEncoder().encode(o.data);
              if (data.length > 0) expect(h.write(task, fd, data)).toBe(data.length);
              h.sys(task, Sys.close, fd);
              let file = model.get(o.name);
              if (file === undefined) model.set(o.name, (file = { bytes: [] }));
              if (!o.append) file.bytes.length = 0;
              file.bytes.push(...data);
              break;
            }
            case 'rename': {
              const r = h.rename(task, path(o.from), path(o.to));
              const file = model.get(o.from);
              if (file === undefined) {
                expect(r).toBeLessThan(0);
              } else {
                expect(r).toBe(0);
                if (model.get(o.to) !== file) {
                  model.delete(o.from);
                  model.set(o.to, file);
                }
              }
              break;
            }
            case 'unlink': {
              const r = h.unlink(task, path(o.name));
              expect(r === 0).toBe(model.delete(o.name));
              break;
            }
            case 'link': {
              const r = h.link(task, path(o.from), path(o.to));
              const file = model.get(o.from);
              if (file === undefined || model.has(o.to)) {
                expect(r).toBeLessThan(0);
              } else {
                expect(r).toBe(0);
                model.set(o.to, file);
              }
              break;
            }
            case 'truncate': {
              const fd = h.open(task, path(o.name), O.WRONLY);
              const file = model.get(o.name);
              if (file === undefined) {
                expect(fd).toBeLessThan(0);
                break;
              }
              expect(h.sys(task, Sys.ftruncate, fd, o.size)).toBe(0);
              h.sys(task, Sys.close, fd);
              const bytes = file.bytes.slice(0, o.size);
              while (bytes.length < o.size) bytes.push(0);
              file.bytes = bytes;
              break;
            }
          }
        }
        const listed = h.list(task, dir);
        expect(Array.isArray(listed) ? [...listed].sort() : listed).toEqual([...model.keys()].sort());
        for (const [n, file] of model) {
          const fd = h.open(task, path(n));
          const va = h.alloc(file.bytes.length + 1);
          expect(h.sys(task, Sys.read, fd, va, file.bytes.length + 1)).toBe(file.bytes.length);
          expect([...h.read(va, file.bytes.length)]).toEqual(file.bytes);
          h.sys(task, Sys.close, fd);
        }
        // Unlinked and truncated data went back: only live files hold pages (≤ 1 page each here).
        const owner = overlay ? 9 : 0;
        expect(h.pages.inUse(owner)).toBeLessThanOrEqual(overlay ? model.size : model.size + 64);
        h.sys(task, Sys.unlinkat, -100, h.str(dir), AT.REMOVEDIR);
      }),
      { numRuns: 60, seed: 42 },
    );
  });
});

/** True if `needle` occurs in `hay`. */
function containsBytes(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/** Paths in the object graph from `roots` where the canary occurs (machine memory excluded). */
function findCanary(roots: Record<string, unknown>, canary: string): string[] {
  const bytes = new TextEncoder().encode(canary);
  const seen = new Set<unknown>();
  const hits: string[] = [];
  const queue: [unknown, string][] = Object.entries(roots).map(([k, v]) => [v, k]);
  while (queue.length > 0) {
    const [value, where] = queue.shift()!;
    if (typeof value === 'string') {
      if (value.includes(canary)) hits.push(where);
      continue;
    }
    if (typeof value !== 'object' || value === null || seen.has(value)) continue;
    seen.add(value);
    // Simulated memory is where the data belongs.
    if (value instanceof Machine || value instanceof ProcessingElement) continue;
    if (ArrayBuffer.isView(value)) {
      if (containsBytes(new Uint8Array(value.buffer, value.byteOffset, value.byteLength), bytes))
        hits.push(where);
      continue;
    }
    if (value instanceof Map) {
      for (const [k, v] of value) queue.push([k, `${where}.key`], [v, `${where}.get(${String(k)})`]);
      continue;
    }
    if (value instanceof Set) {
      for (const v of value) queue.push([v, `${where}.item`]);
      continue;
    }
    for (const key of Reflect.ownKeys(value)) {
      queue.push([(value as Record<string | symbol, unknown>)[key], `${where}.${String(key)}`]);
    }
  }
  return hits;
}

describe('no plaintext in kernel objects', () => {
  it('file data written, copied up, renamed and read back never sits in the VFS object graph', () => {
    const h = new FsHarness();
    const canary = 'CANARY-7f3a91-secret';
    const host = h.task();
    h.writeFile(host, '/tmp/secret', canary.repeat(300));
    h.rename(host, '/tmp/secret', '/tmp/moved');
    expect(h.readFile(host, '/tmp/moved')).toContain(canary);
    const fd = h.open(host, '/tmp/moved');
    const layer = h.vfs.createLayer(h.fsCtx());
    populate(h.fsCtx(), layer.root, '/etc/key', new TextEncoder().encode(canary), 0o600);
    const ns = h.vfs.createContainerRoot(h.fsCtx(), [layer], 4);
    const c = h.task({ cid: 4, mnt: ns });
    const wfd = h.open(c, '/etc/key', O.WRONLY | O.APPEND);
    h.write(c, wfd, canary);
    expect(h.readFile(c, '/etc/key')).toBe(canary + canary);
    h.writeFile(c, '/tmp/s', canary);
    const hits = findCanary(
      { vfs: h.vfs, hostNs: h.hostNs, tasks: h.tasks, ns, layer, pages: h.pages },
      canary,
    );
    expect(hits).toEqual([]);
    expect(fd).toBeGreaterThanOrEqual(0);
  });
});
