// The memory calls (rc_set_vma, rc_set_pte, rc_copy_page) and the address-space part of the task
// calls, through the real gate only. Checks look at the machine: descriptors read from simulated
// memory, translations by the PE's own walker (pe.probe) and loads through its TLB, the GPC.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { split64 } from '../../src/hw/bits.js';
import { leafDescriptor } from '../../src/hw/layout.js';
import { Access, MmuFault, TranslationResult } from '../../src/hw/mmu.js';
import {
  CloneFlag,
  ExecPolicy,
  MallocKind,
  Owner,
  PteSpace,
  RcCall,
  RcError,
  VmaFlag,
  VmaProt,
} from '../../src/minios/abi.js';
import { taskAddressSpace } from '../../src/minios/calls-memory.js';
import { ShimRecord } from '../../src/minios/containers.js';
import { bootTestPlatform, KERNEL_SCRATCH, openIn, OS_POOL, type TestPlatform } from './platform-helpers.js';
import {
  alignDown,
  bindContainer,
  granulesOf,
  isZero,
  kernelLeaf,
  linkTables,
  setPte,
  SPAN,
  tableDesc,
  TWO48,
  userLeaf,
  walkTree,
  type Leaf,
  type Pair,
} from './pte-helpers.js';

const R = VmaProt.Read;
const RW = VmaProt.Read | VmaProt.Write;
const RX = VmaProt.Read | VmaProt.Exec;
/** A user VA: L0 0, L1 0, L2 2, L3 0. */
const VA = 0x40_0000;
/** A kernel VA under L0 entry 1 of the kernel root. */
const KVA = -TWO48 + 2 ** 39;
const DIGEST_PA = KERNEL_SCRATCH + 0x2000;

const bind = (p: TestPlatform, cid: number, policy: number = ExecPolicy.Allow): void =>
  bindContainer(p, cid, policy);

function give(p: TestPlatform, cid: number, pas: readonly number[], kind: number): void {
  for (const pa of pas) expect(p.call(RcCall.MallocMm, cid, pa, 1, kind)).toBeGreaterThanOrEqual(0);
}

interface World {
  readonly p: TestPlatform;
  readonly tid: number;
  /** PT(1): [root, L1, L2, L3, spare, spare]. */
  readonly pt: readonly number[];
  /** CTR(1). */
  readonly ctr: readonly number[];
}

/**
 * Container 1 with one task whose address space has a RW VMA [VA, VA + 2 MiB) and the tables
 * down to level 3 for VA linked.
 */
function world(machine: Parameters<typeof bootTestPlatform>[1] = {}): World {
  const p = bootTestPlatform({}, machine);
  bind(p, 1);
  const ctr = OS_POOL.slice(0, 4);
  const pt = OS_POOL.slice(4, 10);
  give(p, 1, ctr, MallocKind.Ctr);
  give(p, 1, pt, MallocKind.Pt);
  const tid = p.call(RcCall.TaskClone, 1, 0, pt[0]!, 0);
  expect(tid).toBeGreaterThan(0);
  expect(p.call(RcCall.SetVma, 1, tid, VA, VA + SPAN[2], RW)).toBe(0);
  linkUser(p, 1, tid, VA, pt.slice(1, 4));
  return { p, tid, pt, ctr };
}

const linkUser = (p: TestPlatform, cid: number, tid: number, va: number, tables: readonly number[]): void =>
  linkTables(p, cid, tid, va, tables);

/** Link kernel tables for KVA from OS pages (they become PT(os)). */
const linkKernel = (p: TestPlatform, va: number, tables: readonly number[]): void =>
  linkTables(p, PteSpace.Kernel, 0, va, tables);

/** Translate a user VA of task (cid, tid) on PE 1 set up as that task's context (harness). */
function probeUser(p: TestPlatform, cid: number, tid: number, va: number, access: Access): TranslationResult {
  const space = taskAddressSpace(p.minios, cid, tid)!;
  const pe = p.machine.pes[1]!;
  pe.setSysRegRaw('GPTBR_EL3', p.minios.views.viewOf(cid)! / 4096, 0);
  pe.invalidateGptInfoAll();
  const [low, high] = split64(space.root);
  pe.setSysRegRaw('TTBR0_EL1', low, (high | (space.asid << 16)) >>> 0);
  const out = new TranslationResult();
  pe.probe(va, 0, access, out);
  return out;
}

/** Translate a kernel VA at EL1 in the OS context (PE 0, OS-GPT). */
function probeKernel(p: TestPlatform, va: number, access: Access): TranslationResult {
  const out = new TranslationResult();
  p.pe.probe(va, 1, access, out);
  return out;
}

function kernelImage(p: TestPlatform): { base: number; size: number } {
  return { base: p.firmware.bootInfo.kernelBase, size: p.firmware.bootInfo.kernelSize };
}

// ------------------------------------------------------------------------------------ rc_set_vma

describe('rc_set_vma', () => {
  it('registers a VMA in SHIM(c) memory and lets leaves inside it be mapped', () => {
    const { p, tid, ctr } = world();
    expect(setPte(p, 1, tid, VA, userLeaf(ctr[0]!), 3)).toBe(0);
    const record = p.minios.containers.get(1)!;
    // The record area: granules beyond the shim the container was created with, in SHIM(1).
    const area = record.shim.slice(p.minios.params.shimGranules).map((i) => p.minios.ownership.paOf(i));
    expect(area.length).toBe(1);
    expect(p.minios.ownership.kindAt(area[0]!)).toBe(Owner.Shim);
    expect(openIn(p, p.minios.views.osL0, area[0]!)).toBe(false);
    const slots = readSlots(p, 1);
    const space = slots.spaces[0]!;
    expect(space.root).toBe(taskAddressSpace(p.minios, 1, tid)!.root);
    expect(slots.vmas).toEqual([{ space: space.id, start: VA, end: VA + SPAN[2], prot: RW }]);
    // The task slot names its address space.
    const page = p.minios.ownership.paOf(record.shim[0]!);
    expect(p.machine.memory.read32(page + ShimRecord.tasks + 20)).toBe(space.id);
  });

  it('refuses every malformed or forbidden range, and changes nothing when it does', () => {
    const { p, tid } = world();
    const before = readSlots(p, 1);
    const cases: [number[], number][] = [
      [[1, tid, VA + 0x1000, VA + 0x3000, R], RcError.EBUSY], // overlaps the existing VMA
      [[1, tid, VA - 0x1000, VA + 0x1000, R], RcError.EBUSY], // overlaps its start
      [[1, tid, -0x10_0000, -0x8_0000, R], RcError.EINVAL], // a kernel (TTBR1) VA
      [[1, tid, TWO48 - 0x1000, TWO48 + 0x1000, R], RcError.EINVAL], // past the 48-bit range
      [[1, tid, 2 ** 53, 2 ** 53 + 4096, R], RcError.EINVAL], // not a safe integer / non-canonical
      [[1, tid, 0x100_0800, 0x100_2000, R], RcError.EINVAL], // unaligned start
      [[1, tid, 0x100_0000, 0x100_1001, R], RcError.EINVAL], // unaligned end
      [[1, tid, 0x100_0000, 0x100_0000, R], RcError.EINVAL], // empty
      [[1, tid, 0x100_2000, 0x100_0000, R], RcError.EINVAL], // reversed
      [[1, tid, 0x100_0000, 0x100_1000, VmaProt.Write | VmaProt.Exec], RcError.EPERM], // W+X
      [[1, tid, 0x100_0000, 0x100_1000, 7], RcError.EPERM], // RWX
      [[1, tid, 0x100_0000, 0x100_1000, 8], RcError.EINVAL], // unknown prot bit
      [[1, tid, 0x100_0000, 0x100_1000, -1], RcError.EINVAL],
      [[1, tid, 0x0, 0x1000, R], RcError.EPERM], // the reserved low range
      [[1, tid, 0xf000, 0x11000, R], RcError.EPERM],
      [[1, tid + 7, 0x100_0000, 0x100_1000, R], RcError.ENOENT], // unknown task
      [[2, tid, 0x100_0000, 0x100_1000, R], RcError.ENOENT], // unknown container
      [[0, tid, 0x100_0000, 0x100_1000, R], RcError.EINVAL],
      [[1, tid, 0x100_0000, 0x100_1000, VmaFlag.Remove], RcError.ENOENT], // nothing to remove
      [[1, tid, VA, VA + 0x1000, VmaFlag.Remove], RcError.ENOENT], // not exactly a VMA
    ];
    for (const [args, expected] of cases)
      expect([args, p.call(RcCall.SetVma, ...args)]).toEqual([args, expected]);
    expect(readSlots(p, 1)).toEqual(before);
    // A task without an address space has nowhere to register a VMA.
    const bare = p.call(RcCall.TaskClone, 1, tid, 0, 0);
    expect(p.call(RcCall.SetVma, 1, bare, 0x100_0000, 0x100_1000, R)).toBe(RcError.ENOENT);
  });

  it('removes a VMA only when no leaf maps into it', () => {
    const { p, tid, ctr } = world();
    expect(setPte(p, 1, tid, VA + 0x5000, userLeaf(ctr[1]!), 3)).toBe(0);
    expect(p.call(RcCall.SetVma, 1, tid, VA, VA + SPAN[2], VmaFlag.Remove)).toBe(RcError.EBUSY);
    expect(setPte(p, 1, tid, VA + 0x5000, [0, 0], 3)).toBe(0);
    expect(p.call(RcCall.SetVma, 1, tid, VA, VA + SPAN[2], VmaFlag.Remove)).toBe(0);
    expect(readSlots(p, 1).vmas).toEqual([]);
    // Without the VMA the same leaf is refused.
    expect(setPte(p, 1, tid, VA + 0x5000, userLeaf(ctr[1]!), 3)).toBe(RcError.EPERM);
  });
});

/** The memory records of container `cid` as they are in SHIM memory. */
function readSlots(
  p: TestPlatform,
  cid: number,
): {
  spaces: { id: number; asid: number; root: number; tasks: number }[];
  vmas: { space: number; start: number; end: number; prot: number }[];
} {
  const record = p.minios.containers.get(cid)!;
  const memory = p.machine.memory;
  const spaces: { id: number; asid: number; root: number; tasks: number }[] = [];
  const vmas: { space: number; start: number; end: number; prot: number }[] = [];
  const u64 = (pa: number): number => memory.read32(pa + 4) * 2 ** 32 + memory.read32(pa);
  for (const index of record.shim.slice(p.minios.params.shimGranules)) {
    const base = p.minios.ownership.paOf(index);
    for (let at = base; at < base + 4096; at += 32) {
      const kind = memory.read32(at);
      if (kind === 1)
        spaces.push({
          id: memory.read32(at + 16),
          asid: memory.read32(at + 4),
          root: u64(at + 8),
          tasks: memory.read32(at + 20),
        });
      if (kind === 2)
        vmas.push({
          space: memory.read32(at + 4),
          start: u64(at + 8),
          end: u64(at + 16),
          prot: memory.read32(at + 24),
        });
    }
  }
  return { spaces, vmas };
}

// ------------------------------------------------------------------------------------ rc_set_pte (containers)

describe('rc_set_pte in a container address space', () => {
  it("maps c's page for the task: the PE walks to it under shim-GPT(c), and the OS cannot reach it", () => {
    const { p, tid, ctr } = world();
    expect(setPte(p, 1, tid, VA, userLeaf(ctr[0]!), 3)).toBe(0);
    const out = probeUser(p, 1, tid, VA + 0x123, Access.Write);
    expect(out.fault).toBe(MmuFault.None);
    expect(out.pa).toBe(ctr[0]! + 0x123);
    expect(out.global).toBe(false);
    // A read-only remap is honoured by the walker.
    expect(setPte(p, 1, tid, VA, userLeaf(ctr[0]!, { write: false }), 3)).toBe(0);
    expect(probeUser(p, 1, tid, VA, Access.Write).fault).toBe(MmuFault.Permission);
    expect(probeUser(p, 1, tid, VA, Access.Read).fault).toBe(MmuFault.None);
    expect(openIn(p, p.minios.views.osL0, ctr[0]!)).toBe(false);
  });

  it("refuses leaves whose page is not c's memory: another container, the OS, PT, SHIM, MINI, Root, MMIO", () => {
    const { p, tid, pt } = world();
    bind(p, 2);
    give(p, 2, [OS_POOL[40]!], MallocKind.Ctr);
    const record = p.minios.containers.get(1)!;
    const targets = {
      otherContainer: OS_POOL[40]!,
      os: OS_POOL[20]!,
      ownPt: pt[5]!,
      linkedPt: pt[3]!,
      kernelRoot: p.minios.kernelRoot,
      shim: p.minios.ownership.paOf(record.shim[0]!),
      mini: p.minios.boot.miniRegion.base,
      gpt: p.minios.views.osL0,
      root: p.firmware.layout.root.base,
      mmio: p.firmware.layout.block.base,
      smmu: p.firmware.layout.smmu.base,
      kernelText: kernelImage(p).base + 0x1_0000,
    };
    for (const [name, pa] of Object.entries(targets)) {
      expect([name, setPte(p, 1, tid, VA, userLeaf(pa), 3)]).toEqual([name, RcError.EPERM]);
      expect([name, setPte(p, 1, tid, VA, userLeaf(pa, { write: false }), 3)]).toEqual([name, RcError.EPERM]);
    }
    expect(probeUser(p, 1, tid, VA, Access.Read).fault).toBe(MmuFault.Translation);
    // Nor may a container table point at the kernel's tables.
    expect(setPte(p, 1, tid, 0x8000_0000, tableDesc(p.minios.kernelRoot), 1)).toBe(RcError.EPERM);
  });

  it('refuses table descriptors to pages that are not unused PT pages of the same container', () => {
    const { p, tid, ctr, pt } = world();
    bind(p, 2);
    give(p, 2, [OS_POOL[41]!], MallocKind.Pt);
    const va = 0x8000_0000; // L1 entry 2: no table yet
    const targets = {
      ownCtr: ctr[0]!,
      os: OS_POOL[21]!,
      otherContainerPt: OS_POOL[41]!,
      linkedElsewhere: pt[2]!, // already the L1 table: no aliases
      root: pt[0]!, // the root itself (a cycle)
      kernelRoot: p.minios.kernelRoot,
      mini: p.minios.boot.miniRegion.base,
    };
    for (const [name, pa] of Object.entries(targets)) {
      expect([name, setPte(p, 1, tid, va, tableDesc(pa), 1)]).toEqual([name, RcError.EPERM]);
    }
    // Table descriptors with ignored bits set are malformed.
    expect(setPte(p, 1, tid, va, [((pt[4]! | 3) + 0x40) >>> 0, 0], 1)).toBe(RcError.EINVAL);
    expect(setPte(p, 1, tid, va, [(pt[4]! | 3) >>> 0, 1 << 20], 1)).toBe(RcError.EINVAL);
    // The spare PT page works, and is zeroed by the mini-OS (the kernel cannot have left anything).
    expect(setPte(p, 1, tid, va, tableDesc(pt[4]!), 1)).toBe(0);
    expect(isZero(p, pt[4]!)).toBe(true);
  });

  it('refuses to take a page the kernel can still write, until that mapping is gone', () => {
    const { p, tid } = world();
    const page = OS_POOL[22]!;
    const kernelTables = OS_POOL.slice(23, 26);
    linkKernel(p, KVA, kernelTables);
    expect(setPte(p, PteSpace.Kernel, 0, KVA, kernelLeaf(page), 3)).toBe(0);
    for (const kind of [MallocKind.Pt, MallocKind.Ctr, MallocKind.Shim]) {
      expect(p.call(RcCall.MallocMm, 1, page, 1, kind)).toBe(RcError.EBUSY);
    }
    expect(setPte(p, PteSpace.Kernel, 0, KVA, [0, 0], 3)).toBe(0);
    give(p, 1, [page], MallocKind.Pt);
    expect(setPte(p, 1, tid, 0x8000_0000, tableDesc(page), 1)).toBe(0);
  });

  it('refuses W+X, missing nG, privileged-executable or EL1-only user leaves, and malformed descriptors', () => {
    const { p, tid, ctr } = world();
    expect(p.call(RcCall.SetVma, 1, tid, 0x100_0000, 0x100_0000 + SPAN[2], RX)).toBe(0);
    const c = ctr[0]!;
    const wx = leafDescriptor(c, { ap: 1, notGlobal: true, pxn: true, uxn: false });
    expect(setPte(p, 1, tid, VA, wx, 3)).toBe(RcError.EPERM);
    expect(
      setPte(p, 1, tid, VA, leafDescriptor(c, { ap: 1, notGlobal: false, pxn: true, uxn: true }), 3),
    ).toBe(RcError.EPERM);
    expect(
      setPte(p, 1, tid, VA, leafDescriptor(c, { ap: 3, notGlobal: true, pxn: false, uxn: true }), 3),
    ).toBe(RcError.EPERM);
    expect(
      setPte(p, 1, tid, VA, leafDescriptor(c, { ap: 0, notGlobal: true, pxn: true, uxn: true }), 3),
    ).toBe(RcError.EPERM);
    const [low, high] = userLeaf(c);
    const malformed: [number[], number][] = [
      [[1, tid, VA, low, (high | (1 << 20)) >>> 0, 3], RcError.EINVAL], // Contiguous
      [[1, tid, VA, low, (high | (1 << 19)) >>> 0, 3], RcError.EINVAL], // DBM
      [[1, tid, VA, low, (high | (1 << 16)) >>> 0, 3], RcError.EINVAL], // OA[48]
      [[1, tid, VA, (low & ~2) >>> 0, high, 3], RcError.EINVAL], // level-3 "block": reserved
      [[1, tid, 0, low, high, 0], RcError.EINVAL], // a block at level 0
      [[1, tid, VA, low, high, 4], RcError.EINVAL],
      [[1, tid, VA, low, high, -1], RcError.EINVAL],
      [[1, tid, VA + 0x800, low, high, 3], RcError.EINVAL], // unaligned VA
      [[1, tid, VA, low, high, 2], RcError.EINVAL], // bits 11 at level 2: a table descriptor, with ignored bits set
      [[1, tid, VA + 0x1000, low, high, 2], RcError.EINVAL], // VA not aligned to the 2 MiB entry
      [[1, tid, -4096, low, high, 3], RcError.EINVAL], // a kernel VA in a user space
      [[1, tid, TWO48, low, high, 3], RcError.EINVAL],
      [[1, tid, VA, 2 ** 32, high, 3], RcError.EINVAL], // halves must be u32
      [[1, tid, VA, low, -1, 3], RcError.EINVAL],
      [[1, tid, 0x4000_0000, low, high, 3], RcError.EINVAL], // no L2 table under L1 entry 1
      [[1, tid + 5, VA, low, high, 3], RcError.ENOENT],
      [[3, tid, VA, low, high, 3], RcError.ENOENT],
      [[0x1_0000, tid, VA, low, high, 3], RcError.EINVAL],
    ];
    for (const [args, expected] of malformed)
      expect([args, p.call(RcCall.SetPte, ...args)]).toEqual([args, expected]);
    expect(probeUser(p, 1, tid, VA, Access.Read).fault).toBe(MmuFault.Translation);
  });

  it('refuses leaves outside a VMA of the task or with more permission than it', () => {
    const { p, tid, ctr, pt } = world();
    const next = VA + SPAN[2];
    expect(p.call(RcCall.SetVma, 1, tid, next, next + 0x1000, R)).toBe(0);
    expect(setPte(p, 1, tid, next, tableDesc(pt[4]!), 2)).toBe(0); // the L3 table of the next 2 MiB
    // Outside every VMA.
    expect(setPte(p, 1, tid, next + 0x1000, userLeaf(ctr[0]!), 3)).toBe(RcError.EPERM);
    // Writable or executable in a read-only VMA.
    expect(setPte(p, 1, tid, next, userLeaf(ctr[0]!), 3)).toBe(RcError.EPERM);
    expect(setPte(p, 1, tid, next, userLeaf(ctr[0]!, { write: false, exec: true }), 3)).toBe(RcError.EPERM);
    expect(setPte(p, 1, tid, next, userLeaf(ctr[0]!, { write: false }), 3)).toBe(0);
    // Executable in the RW VMA.
    expect(setPte(p, 1, tid, VA, userLeaf(ctr[1]!, { write: false, exec: true }), 3)).toBe(RcError.EPERM);
    // A PROT_NONE VMA takes no leaf at all.
    expect(p.call(RcCall.SetVma, 1, tid, next + 0x1000, next + 0x2000, 0)).toBe(0);
    expect(setPte(p, 1, tid, next + 0x1000, userLeaf(ctr[1]!, { write: false }), 3)).toBe(RcError.EPERM);
    // Another address space's VMAs do not count.
    const otherRoot = OS_POOL[26]!;
    give(p, 1, [otherRoot], MallocKind.Pt);
    const other = p.call(RcCall.TaskClone, 1, tid, otherRoot, 0);
    expect(other).toBeGreaterThan(tid);
    expect(p.call(RcCall.SetVma, 1, other, next + 0x3000, next + 0x4000, RW)).toBe(0);
    expect(setPte(p, 1, tid, next + 0x3000, userLeaf(ctr[2]!), 3)).toBe(RcError.EPERM);
  });

  it("maps a 2 MiB block only if every granule is c's and the block lies inside one VMA", () => {
    const p = bootTestPlatform();
    bind(p, 1);
    const block = 0x9020_0000; // 2 MiB aligned: all 512 granules CTR(1)
    const partial = 0x9060_0000; // 511 granules CTR(1), the last one the OS's
    const pts = OS_POOL.slice(10, 14);
    give(p, 1, pts, MallocKind.Pt);
    expect(p.call(RcCall.MallocMm, 1, block, 512, MallocKind.Ctr)).toBe(0);
    expect(p.call(RcCall.MallocMm, 1, partial, 511, MallocKind.Ctr)).toBe(0);
    const tid = p.call(RcCall.TaskClone, 1, 0, pts[0]!, 0);
    linkUser(p, 1, tid, VA, pts.slice(1, 3));
    const blockLeaf = userLeaf(block, { level: 2 });
    expect(p.call(RcCall.SetVma, 1, tid, VA, VA + SPAN[2] - 0x1000, RW)).toBe(0);
    expect(setPte(p, 1, tid, VA, blockLeaf, 2)).toBe(RcError.EPERM); // the VMA is one page short
    expect(p.call(RcCall.SetVma, 1, tid, VA + SPAN[2] - 0x1000, VA + SPAN[2], RW)).toBe(0);
    expect(setPte(p, 1, tid, VA, blockLeaf, 2)).toBe(RcError.EPERM); // two VMAs, not one
    expect(p.call(RcCall.SetVma, 1, tid, VA, VA + SPAN[2] - 0x1000, VmaFlag.Remove)).toBe(0);
    expect(p.call(RcCall.SetVma, 1, tid, VA + SPAN[2] - 0x1000, VA + SPAN[2], VmaFlag.Remove)).toBe(0);
    expect(p.call(RcCall.SetVma, 1, tid, VA, VA + SPAN[2], RW)).toBe(0);
    expect(setPte(p, 1, tid, VA, userLeaf(partial, { level: 2 }), 2)).toBe(RcError.EPERM); // one granule is the OS's
    expect(setPte(p, 1, tid, VA, userLeaf(block + 0x1000, { level: 2 }), 2)).toBe(RcError.EINVAL); // OA misaligned
    expect(setPte(p, 1, tid, VA, blockLeaf, 2)).toBe(0);
    const out = probeUser(p, 1, tid, VA + 0x1f_f008, Access.Write);
    expect([out.fault, out.pa]).toEqual([MmuFault.None, block + 0x1f_f008]);
  });

  it('replaces a table descriptor only when its table is empty; the unlinked table goes back to the pool, zeroed', () => {
    const { p, tid, ctr, pt } = world();
    expect(setPte(p, 1, tid, VA, userLeaf(ctr[0]!), 3)).toBe(0);
    expect(setPte(p, 1, tid, VA, [0, 0], 2)).toBe(RcError.EBUSY);
    expect(setPte(p, 1, tid, VA, [0, 0], 3)).toBe(0);
    expect(setPte(p, 1, tid, VA, [0, 0], 2)).toBe(0);
    expect(isZero(p, pt[3]!)).toBe(true);
    expect(p.minios.ownership.kindAt(pt[3]!)).toBe(Owner.Pt);
    // It can be linked again (once: no aliases).
    expect(setPte(p, 1, tid, VA, tableDesc(pt[3]!), 2)).toBe(0);
    expect(setPte(p, 1, tid, VA + SPAN[2], tableDesc(pt[3]!), 2)).toBe(RcError.EPERM);
  });
});

// ------------------------------------------------------------------------------------ rc_set_pte (kernel)

describe('rc_set_pte in the kernel tables', () => {
  it('turns a new table page into PT(os), zeroed and read-only to the kernel; an unlinked one returns to the OS', () => {
    const p = bootTestPlatform();
    const tables = OS_POOL.slice(0, 3);
    for (const t of tables) p.machine.memory.write32(t + 8, 0xbad);
    linkKernel(p, KVA, tables);
    for (const t of tables) {
      expect(p.minios.ownership.kindAt(t)).toBe(Owner.PtOs);
      expect(p.machine.memory.read32(t + 8)).toBe(0); // scrubbed (entry 0 links the next level)
    }
    expect(isZero(p, tables[2]!)).toBe(true);
    const data = OS_POOL[3]!;
    expect(setPte(p, PteSpace.Kernel, 0, KVA, kernelLeaf(data), 3)).toBe(0);
    expect(probeKernel(p, KVA + 4, Access.Write).pa).toBe(data + 4);
    // Writable mappings of any page-table page are refused.
    for (const pa of [tables[2]!, p.minios.kernelRoot]) {
      expect(setPte(p, PteSpace.Kernel, 0, KVA + 0x1000, kernelLeaf(pa), 3)).toBe(RcError.EPERM);
      expect(setPte(p, PteSpace.Kernel, 0, KVA + 0x1000, kernelLeaf(pa, { write: false }), 3)).toBe(0);
    }
    expect(probeKernel(p, KVA + 0x1000, Access.Write).fault).toBe(MmuFault.Permission);
    // Unlink the L3 table once it is empty: back to the OS.
    expect(setPte(p, PteSpace.Kernel, 0, alignDown(KVA, 2), [0, 0], 2)).toBe(RcError.EBUSY);
    expect(setPte(p, PteSpace.Kernel, 0, KVA, [0, 0], 3)).toBe(0);
    expect(setPte(p, PteSpace.Kernel, 0, KVA + 0x1000, [0, 0], 3)).toBe(0);
    expect(setPte(p, PteSpace.Kernel, 0, alignDown(KVA, 2), [0, 0], 2)).toBe(0);
    expect(p.minios.ownership.kindAt(tables[2]!)).toBe(Owner.Os);
    expect(probeKernel(p, KVA, Access.Read).fault).toBe(MmuFault.Translation);
    // Now an ordinary OS page again: the kernel may map it writable.
    expect(setPte(p, PteSpace.Kernel, 0, alignDown(KVA, 2), tableDesc(OS_POOL[4]!), 2)).toBe(0);
    expect(setPte(p, PteSpace.Kernel, 0, KVA, kernelLeaf(tables[2]!), 3)).toBe(0);
  });

  it('refuses writable mappings of kernel text, page tables, MINI (GPT bytes), SHIM, CTR, and any mapping of Root', () => {
    const p = bootTestPlatform();
    bind(p, 1);
    give(p, 1, [OS_POOL[10]!], MallocKind.Ctr);
    give(p, 1, [OS_POOL[11]!], MallocKind.Pt);
    linkKernel(p, KVA, OS_POOL.slice(0, 3));
    const image = kernelImage(p);
    const record = p.minios.containers.get(1)!;
    const writable = {
      kernelText: image.base + 0x1_0000,
      kernelRodataEnd: image.base + image.size - 0x1000,
      kernelRoot: p.minios.kernelRoot,
      kernelTable: OS_POOL[1]!,
      containerPt: OS_POOL[11]!,
      containerCtr: OS_POOL[10]!,
      shim: p.minios.ownership.paOf(record.shim[0]!),
      gptOs: p.minios.views.osL0,
      gptC1: p.minios.views.viewOf(1)!,
      miniCode: p.minios.boot.miniRegion.base,
    };
    for (const [name, pa] of Object.entries(writable)) {
      expect([name, setPte(p, PteSpace.Kernel, 0, KVA, kernelLeaf(pa), 3)]).toEqual([name, RcError.EPERM]);
    }
    for (const pa of [
      p.firmware.layout.root.base,
      p.firmware.layout.smmu.base + 0x2_0000,
      p.firmware.layout.smmu.base + 0x8000,
    ]) {
      expect(setPte(p, PteSpace.Kernel, 0, KVA, kernelLeaf(pa, { write: false }), 3)).toBe(RcError.EPERM);
    }
    // Kernel text is mapped read-only and executable; a device window read-write, never executable.
    expect(
      setPte(p, PteSpace.Kernel, 0, KVA, kernelLeaf(writable.kernelText, { write: false, exec: true }), 3),
    ).toBe(0);
    expect(setPte(p, PteSpace.Kernel, 0, KVA + 0x1000, kernelLeaf(p.firmware.layout.block.base), 3)).toBe(0);
    expect(
      setPte(
        p,
        PteSpace.Kernel,
        0,
        KVA + 0x1000,
        kernelLeaf(p.firmware.layout.block.base, { write: false, exec: true }),
        3,
      ),
    ).toBe(RcError.EPERM);
    const out = probeKernel(p, KVA, Access.Fetch);
    expect([out.fault, out.pa]).toEqual([MmuFault.None, writable.kernelText]);
    expect(probeKernel(p, KVA, Access.Write).fault).toBe(MmuFault.Permission);
  });

  it('refuses W+X, executable OS memory, EL0-accessible or EL0-executable kernel leaves', () => {
    const p = bootTestPlatform();
    linkKernel(p, KVA, OS_POOL.slice(0, 3));
    const os = OS_POOL[5]!;
    const text = kernelImage(p).base + 0x2_0000;
    expect(
      setPte(p, PteSpace.Kernel, 0, KVA, leafDescriptor(text, { ap: 0, pxn: false, uxn: true }), 3),
    ).toBe(RcError.EPERM);
    expect(setPte(p, PteSpace.Kernel, 0, KVA, leafDescriptor(os, { ap: 2, pxn: false, uxn: true }), 3)).toBe(
      RcError.EPERM,
    );
    expect(setPte(p, PteSpace.Kernel, 0, KVA, leafDescriptor(os, { ap: 1, pxn: true, uxn: true }), 3)).toBe(
      RcError.EPERM,
    );
    expect(setPte(p, PteSpace.Kernel, 0, KVA, leafDescriptor(os, { ap: 3, pxn: true, uxn: true }), 3)).toBe(
      RcError.EPERM,
    );
    expect(
      setPte(p, PteSpace.Kernel, 0, KVA, leafDescriptor(text, { ap: 2, pxn: true, uxn: false }), 3),
    ).toBe(RcError.EPERM);
    // A 2 MiB block of kernel text that runs past the image is not executable.
    const image = kernelImage(p);
    const lastBlock = image.base + image.size - SPAN[2];
    expect(
      setPte(
        p,
        PteSpace.Kernel,
        0,
        alignDown(KVA, 2) + SPAN[2],
        kernelLeaf(lastBlock, { write: false, exec: true, level: 2 }),
        2,
      ),
    ).toBe(0);
    expect(
      setPte(
        p,
        PteSpace.Kernel,
        0,
        alignDown(KVA, 2) + 2 * SPAN[2],
        kernelLeaf(image.base + image.size, { write: false, exec: true, level: 2 }),
        2,
      ),
    ).toBe(RcError.EPERM);
  });

  it("never touches the mini-OS's own L0 entry or anything below it", () => {
    const p = bootTestPlatform();
    const linear = p.minios.params.linearBase;
    const root = p.minios.kernelRoot;
    const l0 = Math.floor((linear + TWO48) / SPAN[0]) % 512;
    const before = [p.machine.memory.read32(root + 8 * l0), p.machine.memory.read32(root + 8 * l0 + 4)];
    expect(setPte(p, PteSpace.Kernel, 0, linear, [0, 0], 0)).toBe(RcError.EPERM);
    expect(setPte(p, PteSpace.Kernel, 0, linear, tableDesc(OS_POOL[0]!), 0)).toBe(RcError.EPERM);
    expect(setPte(p, PteSpace.Kernel, 0, linear + SPAN[1], kernelLeaf(OS_POOL[0]!, { level: 1 }), 1)).toBe(
      RcError.EPERM,
    );
    expect(
      setPte(p, PteSpace.Kernel, 0, linear + p.minios.boot.miniRegion.base, kernelLeaf(OS_POOL[0]!), 3),
    ).toBe(RcError.EPERM);
    expect([p.machine.memory.read32(root + 8 * l0), p.machine.memory.read32(root + 8 * l0 + 4)]).toEqual(
      before,
    );
    expect(p.minios.ownership.kindAt(OS_POOL[0]!)).toBe(Owner.Os);
  });

  it('refuses table pages that are not OS memory the kernel cannot write, and malformed kernel arguments', () => {
    const p = bootTestPlatform();
    bind(p, 1);
    give(p, 1, [OS_POOL[10]!], MallocKind.Pt);
    give(p, 1, [OS_POOL[11]!], MallocKind.Ctr);
    linkKernel(p, KVA, OS_POOL.slice(0, 3));
    const writableData = OS_POOL[3]!;
    expect(setPte(p, PteSpace.Kernel, 0, KVA, kernelLeaf(writableData), 3)).toBe(0);
    const at = alignDown(KVA, 2) + SPAN[2]; // the next level-2 entry: no table yet
    const image = kernelImage(p);
    const tables = {
      writableByKernel: writableData,
      containerPt: OS_POOL[10]!,
      containerCtr: OS_POOL[11]!,
      linkedKernelTable: OS_POOL[1]!,
      kernelRoot: p.minios.kernelRoot,
      kernelText: image.base + 0x3_0000,
      mini: p.minios.boot.miniRegion.base,
      gpt: p.minios.views.osL0,
      root: p.firmware.layout.root.base,
      mmio: p.firmware.layout.block.base,
    };
    for (const [name, pa] of Object.entries(tables)) {
      expect([name, setPte(p, PteSpace.Kernel, 0, at, tableDesc(pa), 2)]).toEqual([name, RcError.EPERM]);
    }
    expect(p.minios.ownership.kindAt(writableData)).toBe(Owner.Os);
    // Once the kernel no longer maps it writable, the page can become a table.
    expect(setPte(p, PteSpace.Kernel, 0, KVA, kernelLeaf(writableData, { write: false }), 3)).toBe(0);
    expect(setPte(p, PteSpace.Kernel, 0, at, tableDesc(writableData), 2)).toBe(0);
    // The read-only mapping the kernel kept now shows a page table, which it cannot write.
    expect(probeKernel(p, KVA, Access.Write).fault).toBe(MmuFault.Permission);
    // A writable 2 MiB block over OS memory that holds a page table is refused.
    const blockVa = alignDown(KVA, 2) + 4 * SPAN[2];
    expect(setPte(p, PteSpace.Kernel, 0, blockVa, kernelLeaf(0x9000_0000, { level: 2 }), 2)).toBe(
      RcError.EPERM,
    );
    expect(
      setPte(p, PteSpace.Kernel, 0, blockVa, kernelLeaf(0x9000_0000, { level: 2, write: false }), 2),
    ).toBe(0);
    const [low, high] = kernelLeaf(OS_POOL[20]!);
    const malformed: [number[], number][] = [
      [[0, 1, KVA + 0x1000, low, high, 3], RcError.EINVAL], // tid must be 0
      [[0, 0, 0x1000, low, high, 3], RcError.EINVAL], // a user VA in the kernel space
      [[0, 0, -TWO48 - 0x1000, low, high, 3], RcError.EINVAL],
      [[0, 0, KVA + 0x800, low, high, 3], RcError.EINVAL],
      [[0, 0, KVA + 0x1000, low, high, 2], RcError.EINVAL], // not aligned to the entry
      [[0, 0, alignDown(KVA, 0), (low & ~2) >>> 0, high, 0], RcError.EINVAL], // block at level 0
      [[0, 0, KVA + 0x1000, low, (high | (1 << 20)) >>> 0, 3], RcError.EINVAL], // Contiguous
      [[0, 0, alignDown(KVA, 2) + 8 * SPAN[2], low, high, 3], RcError.EINVAL], // no L3 table there
      [[-1, 0, KVA + 0x1000, low, high, 3], RcError.EINVAL],
    ];
    for (const [args, expected] of malformed)
      expect([args, p.call(RcCall.SetPte, ...args)]).toEqual([args, expected]);
  });
});

// ------------------------------------------------------------------------------------ rc_copy_page

describe('rc_copy_page', () => {
  it("copies OS memory, c's own pages and kernel-given shim memory into CTR(c)", () => {
    const p = bootTestPlatform();
    bind(p, 1);
    const [dst, own, cache] = [OS_POOL[0]!, OS_POOL[1]!, OS_POOL[2]!];
    give(p, 1, [dst, own], MallocKind.Ctr);
    give(p, 1, [cache], MallocKind.Shim);
    const source = OS_POOL[3]!;
    p.machine.memory.write32(source + 100, 0x1234_5678);
    expect(p.call(RcCall.CopyPage, 1, dst, source)).toBe(0);
    expect(p.machine.memory.read32(dst + 100)).toBe(0x1234_5678);
    p.machine.memory.write32(own + 8, 0xaaaa);
    expect(p.call(RcCall.CopyPage, 1, dst, own)).toBe(0);
    expect(p.machine.memory.read32(dst + 8)).toBe(0xaaaa);
    expect(p.machine.memory.read32(dst + 100)).toBe(0);
    p.machine.memory.write32(cache + 12, 0xcace);
    expect(p.call(RcCall.CopyPage, 1, dst, cache)).toBe(0);
    expect(p.machine.memory.read32(dst + 12)).toBe(0xcace);
  });

  it('refuses a destination that is not CTR(c) and a source of another container, MINI, PT, SHIM records, Root', () => {
    const p = bootTestPlatform();
    bind(p, 1);
    bind(p, 2);
    const dst = OS_POOL[0]!;
    give(p, 1, [dst], MallocKind.Ctr);
    give(p, 1, [OS_POOL[1]!], MallocKind.Pt);
    give(p, 2, [OS_POOL[40]!], MallocKind.Ctr);
    give(p, 2, [OS_POOL[41]!], MallocKind.Shim);
    p.machine.memory.write32(dst, 0x5ec2e7);
    const shim1 = p.minios.ownership.paOf(p.minios.containers.get(1)!.shim[0]!);
    const sources = {
      otherCtr: OS_POOL[40]!,
      otherShim: OS_POOL[41]!,
      otherShimRecord: p.minios.ownership.paOf(p.minios.containers.get(2)!.shim[0]!),
      ownShimRecord: shim1,
      ownPt: OS_POOL[1]!,
      kernelRoot: p.minios.kernelRoot,
      mini: p.minios.boot.miniRegion.base,
      gpt: p.minios.views.osL0,
      root: p.firmware.layout.root.base,
      mmio: p.firmware.layout.block.base,
    };
    for (const [name, src] of Object.entries(sources)) {
      expect([name, p.call(RcCall.CopyPage, 1, dst, src)]).toEqual([name, RcError.EPERM]);
    }
    const destinations = {
      os: OS_POOL[5]!,
      otherCtr: OS_POOL[40]!,
      ownPt: OS_POOL[1]!,
      ownShim: shim1,
      mini: p.minios.boot.miniRegion.base,
    };
    for (const [name, to] of Object.entries(destinations)) {
      expect([name, p.call(RcCall.CopyPage, 1, to, OS_POOL[6]!)]).toEqual([name, RcError.EPERM]);
    }
    expect(p.call(RcCall.CopyPage, 1, dst, dst)).toBe(RcError.EINVAL);
    expect(p.call(RcCall.CopyPage, 1, dst + 8, OS_POOL[6]!)).toBe(RcError.EINVAL);
    expect(p.call(RcCall.CopyPage, 1, dst, OS_POOL[6]! + 0x800)).toBe(RcError.EINVAL);
    expect(p.call(RcCall.CopyPage, 1, dst, -4096)).toBe(RcError.EINVAL);
    expect(p.call(RcCall.CopyPage, 3, dst, OS_POOL[6]!)).toBe(RcError.ENOENT);
    expect(p.call(RcCall.CopyPage, 0, dst, OS_POOL[6]!)).toBe(RcError.EINVAL);
    // Nothing was written.
    expect(p.machine.memory.read32(dst)).toBe(0x5ec2e7);
  });

  it('refuses to overwrite a page a container leaf maps (only fresh pages: COW copies, page-ins)', () => {
    const { p, tid, ctr } = world();
    expect(setPte(p, 1, tid, VA, userLeaf(ctr[0]!, { write: false }), 3)).toBe(0);
    p.machine.memory.write32(ctr[0]!, 0x600d);
    p.machine.memory.write32(OS_POOL[20]!, 0xbad);
    expect(p.call(RcCall.CopyPage, 1, ctr[0]!, OS_POOL[20]!)).toBe(RcError.EBUSY);
    expect(p.machine.memory.read32(ctr[0]!)).toBe(0x600d);
    // COW: copy the mapped page into a fresh one, then remap.
    expect(p.call(RcCall.CopyPage, 1, ctr[1]!, ctr[0]!)).toBe(0);
    expect(setPte(p, 1, tid, VA, userLeaf(ctr[1]!), 3)).toBe(0);
    expect(p.machine.memory.read32(ctr[1]!)).toBe(0x600d);
    expect(p.call(RcCall.CopyPage, 1, ctr[0]!, OS_POOL[20]!)).toBe(0);
  });
});

// ------------------------------------------------------------------------------------ task calls

describe('address spaces of tasks', () => {
  it('rc_task_clone validates the root and zeroes it; CLONE_VM shares; fork copies the VMAs', () => {
    const { p, tid, ctr, pt } = world();
    bind(p, 2);
    give(p, 2, [OS_POOL[40]!], MallocKind.Pt);
    const fresh = OS_POOL[12]!;
    give(p, 1, [fresh], MallocKind.Pt);
    const rows: [number[], number][] = [
      [[1, tid, ctr[0]!, 0], RcError.EPERM], // a CTR page
      [[1, tid, OS_POOL[30]!, 0], RcError.EPERM], // an OS page
      [[1, tid, OS_POOL[40]!, 0], RcError.EPERM], // another container's PT page
      [[1, tid, pt[0]!, 0], RcError.EPERM], // already a root
      [[1, tid, pt[2]!, 0], RcError.EPERM], // already a table
      [[1, tid, fresh + 8, 0], RcError.EINVAL],
      [[1, tid, fresh, 0x200], RcError.EINVAL], // unknown flags
      [[1, tid, fresh, CloneFlag.Vm], RcError.EINVAL], // CLONE_VM takes no root
      [[1, 0, 0, CloneFlag.Vm], RcError.EPERM], // (a second first task)
    ];
    const tasksBefore = p.minios.containers.get(1)!.tasks.size;
    for (const [args, expected] of rows)
      expect([args, p.call(RcCall.TaskClone, ...args)]).toEqual([args, expected]);
    expect(p.minios.containers.get(1)!.tasks.size).toBe(tasksBefore);
    p.machine.memory.write32(fresh + 16, 0x77); // rc_malloc_mm scrubbed it; pretend a stale write
    const child = p.call(RcCall.TaskClone, 1, tid, fresh, 0);
    expect(child).toBeGreaterThan(tid);
    expect(isZero(p, fresh)).toBe(true);
    expect(taskAddressSpace(p.minios, 1, child)!.asid).not.toBe(taskAddressSpace(p.minios, 1, tid)!.asid);
    // Fork: the child has the parent's VMAs (and no leaves).
    const slots = readSlots(p, 1);
    expect(slots.vmas.map((v) => [v.start, v.end, v.prot])).toEqual([
      [VA, VA + SPAN[2], RW],
      [VA, VA + SPAN[2], RW],
    ]);
    const thread = p.call(RcCall.TaskClone, 1, tid, 0, CloneFlag.Vm);
    expect(taskAddressSpace(p.minios, 1, thread)).toEqual(taskAddressSpace(p.minios, 1, tid));
    expect(setPte(p, 1, thread, VA, userLeaf(ctr[0]!), 3)).toBe(0);
    expect(probeUser(p, 1, tid, VA, Access.Read).pa).toBe(ctr[0]!);
  });

  it('rc_task_exit of the last task scrubs its private pages and its tables, not pages another space maps', () => {
    const { p, tid, ctr, pt } = world();
    const childRoot = OS_POOL[12]!;
    const childTables = OS_POOL.slice(13, 16);
    give(p, 1, [childRoot, ...childTables], MallocKind.Pt);
    const child = p.call(RcCall.TaskClone, 1, tid, childRoot, 0);
    linkUser(p, 1, child, VA, childTables);
    // Parent: ctr[0] private, ctr[1] shared with the child (a COW page); child: ctr[2].
    expect(setPte(p, 1, tid, VA, userLeaf(ctr[0]!), 3)).toBe(0);
    expect(setPte(p, 1, tid, VA + 0x1000, userLeaf(ctr[1]!, { write: false }), 3)).toBe(0);
    expect(setPte(p, 1, child, VA + 0x1000, userLeaf(ctr[1]!, { write: false }), 3)).toBe(0);
    expect(setPte(p, 1, child, VA + 0x2000, userLeaf(ctr[2]!), 3)).toBe(0);
    for (const pa of ctr) p.machine.memory.write32(pa, 0x5ec2e7);
    const thread = p.call(RcCall.TaskClone, 1, tid, 0, CloneFlag.Vm);
    expect(p.call(RcCall.TaskExit, 1, tid)).toBe(0);
    expect(p.machine.memory.read32(ctr[0]!)).toBe(0x5ec2e7); // the thread still uses the space
    expect(p.call(RcCall.TaskExit, 1, thread)).toBe(0);
    expect(p.machine.memory.read32(ctr[0]!)).toBe(0); // private: scrubbed
    expect(p.machine.memory.read32(ctr[1]!)).toBe(0x5ec2e7); // the child still maps it
    expect(p.machine.memory.read32(ctr[3]!)).toBe(0x5ec2e7); // never mapped: not this task's
    for (const table of pt.slice(0, 4)) {
      expect(isZero(p, table)).toBe(true);
      expect(p.minios.ownership.kindAt(table)).toBe(Owner.Pt);
    }
    expect(readSlots(p, 1).spaces.map((s) => s.root)).toEqual([childRoot]);
    expect(p.call(RcCall.TaskExit, 1, child)).toBe(0);
    expect(p.machine.memory.read32(ctr[1]!)).toBe(0);
    expect(p.machine.memory.read32(ctr[2]!)).toBe(0);
    expect(readSlots(p, 1)).toEqual({ spaces: [], vmas: [] });
    // The old root is an ordinary pool page again: a new task can use it.
    const again = p.call(RcCall.TaskClone, 1, 0, pt[0]!, 0);
    expect(again).toBeGreaterThan(0);
    // And the container can be taken down.
    expect(p.call(RcCall.TaskExit, 1, again)).toBe(0);
    expect(p.call(RcCall.DestroyContainer, 1)).toBe(0);
    expect(p.call(RcCall.DestroyShim, 1)).toBe(0);
  });

  it('rc_task_exec gives the task a new address space and drops the old one (scrubbed)', () => {
    const { p, tid, ctr } = world();
    expect(setPte(p, 1, tid, VA, userLeaf(ctr[0]!), 3)).toBe(0);
    p.machine.memory.write32(ctr[0]!, 0x5ec2e7);
    p.machine.memory.writeBytes(DIGEST_PA, new Uint8Array(32).fill(7));
    const newRoot = OS_POOL[12]!;
    expect(p.call(RcCall.TaskExec, 1, tid, DIGEST_PA, 0x40_0000, ctr[1]!)).toBe(RcError.EPERM);
    expect(p.machine.memory.read32(ctr[0]!)).toBe(0x5ec2e7); // refused: nothing changed
    give(p, 1, [newRoot], MallocKind.Pt);
    const oldAsid = taskAddressSpace(p.minios, 1, tid)!.asid;
    expect(p.call(RcCall.TaskExec, 1, tid, DIGEST_PA, 0x40_0000, newRoot)).toBe(0);
    expect(p.machine.memory.read32(ctr[0]!)).toBe(0);
    const space = taskAddressSpace(p.minios, 1, tid)!;
    expect(space.root).toBe(newRoot);
    expect(space.asid).not.toBe(oldAsid);
    expect(readSlots(p, 1).vmas).toEqual([]);
    expect(p.call(RcCall.SetVma, 1, tid, VA, VA + 0x1000, RW)).toBe(0);
  });
});

// ------------------------------------------------------------------------------------ TLB maintenance

describe('TLB maintenance', () => {
  // With the GPT-tagged TLB the gate's GPT switches flush nothing, so only rc_set_pte's own TLBI
  // can remove a stale translation.
  const machine = { gptTaggedTlb: true, tlbEntries: 1 << 16 };

  for (const honest of [true, false]) {
    it(`a kernel translation ${honest ? 'is gone after rc_set_pte remaps the VA' : 'stays stale after a descriptor write without TLBI (control)'}`, () => {
      const p = bootTestPlatform({}, machine);
      const tables = OS_POOL.slice(0, 3);
      linkKernel(p, KVA, tables);
      const [a, b] = [OS_POOL[5]!, OS_POOL[6]!];
      p.machine.memory.write32(a, 0xaaaa);
      p.machine.memory.write32(b, 0xbbbb);
      expect(setPte(p, PteSpace.Kernel, 0, KVA, kernelLeaf(a), 3)).toBe(0);
      expect(p.pe.load32(KVA)).toBe(0xaaaa); // cached in the TLB now
      if (honest) expect(setPte(p, PteSpace.Kernel, 0, KVA, kernelLeaf(b), 3)).toBe(0);
      else p.machine.memory.write64(tables[2]! + 8 * (((KVA + TWO48) / 4096) % 512), ...kernelLeaf(b));
      expect(p.pe.load32(KVA)).toBe(honest ? 0xbbbb : 0xaaaa);
    });

    it(`a container translation ${honest ? 'is gone after rc_set_pte remaps the VA (TLBI by VA and ASID)' : 'stays stale without TLBI (control)'}`, () => {
      const { p, tid, ctr, pt } = world(machine);
      const [a, b] = [ctr[0]!, ctr[1]!];
      p.machine.memory.write32(a, 0xaaaa);
      p.machine.memory.write32(b, 0xbbbb);
      expect(setPte(p, 1, tid, VA, userLeaf(a), 3)).toBe(0);
      const space = taskAddressSpace(p.minios, 1, tid)!;
      const enterTask = (): void => {
        p.pe.setSysRegRaw('GPTBR_EL3', p.minios.views.viewOf(1)! / 4096, 0);
        p.pe.setSysRegRaw('TTBR0_EL1', space.root, (space.asid << 16) >>> 0);
        p.pe.reset(0);
      };
      const enterKernel = (): void => {
        p.pe.setSysRegRaw('GPTBR_EL3', p.minios.views.osL0 / 4096, 0);
        p.pe.reset(1);
      };
      enterTask();
      expect(p.pe.load32(VA)).toBe(0xaaaa);
      enterKernel();
      if (honest) expect(setPte(p, 1, tid, VA, userLeaf(b), 3)).toBe(0);
      else p.machine.memory.write64(pt[3]! + 8 * ((VA / 4096) % 512), ...userLeaf(b));
      enterTask();
      expect(p.pe.load32(VA)).toBe(honest ? 0xbbbb : 0xaaaa);
      expect(p.pe.lastFault).toBe(0);
      enterKernel();
    });
  }

  it('no TLB entry of an address space survives its last task (TLBI ASIDE1)', () => {
    const { p, tid, ctr } = world(machine);
    expect(setPte(p, 1, tid, VA, userLeaf(ctr[0]!), 3)).toBe(0);
    const space = taskAddressSpace(p.minios, 1, tid)!;
    p.pe.setSysRegRaw('GPTBR_EL3', p.minios.views.viewOf(1)! / 4096, 0);
    p.pe.setSysRegRaw('TTBR0_EL1', space.root, (space.asid << 16) >>> 0);
    p.pe.reset(0);
    p.pe.load32(VA);
    const tagged = (): number =>
      Array.from(p.pe.tlb.asid).filter((a, i) => a === space.asid && p.pe.tlb.vpn[i] === p.pe.tlb.vpn[i])
        .length;
    expect(tagged()).toBeGreaterThan(0);
    p.pe.setSysRegRaw('GPTBR_EL3', p.minios.views.osL0 / 4096, 0);
    p.pe.reset(1);
    expect(p.call(RcCall.TaskExit, 1, tid)).toBe(0);
    expect(tagged()).toBe(0);
  });
});

// ------------------------------------------------------------------------------------ properties

/**
 * The invariants, from memory and the machine: every valid leaf of a container address space maps
 * that container's memory, inside one of its VMAs (as recorded in SHIM) and with no more
 * permission; its tables are that container's PT pages, each in one tree only; no kernel leaf lets
 * EL1 write a page-table page in use, kernel text, MINI memory (GPT bytes) or Root memory.
 */
function checkInvariants(p: TestPlatform): { userLeaves: number; kernelLeaves: number } {
  let userLeaves = 0;
  const own = p.minios.ownership;
  const image = kernelImage(p);
  const tablePages = new Set<number>();
  const kernelLeaves: Leaf[] = [];
  const miniL0 = Math.floor((p.minios.params.linearBase + TWO48) / SPAN[0]) % 512;
  // The mini-OS's own regions (its linear map; the trampoline and con-shim windows) are not the kernel's.
  walkTree(p, p.minios.kernelRoot, 0, -TWO48, tablePages, kernelLeaves, [miniL0, p.minios.windowL0Index]);
  for (const t of tablePages) expect(own.kindAt(t)).toBe(Owner.PtOs);
  const kernelWritable = new Set(kernelLeaves.filter((l) => ((l.low >>> 7) & 1) === 0).flatMap(granulesOf));
  for (const [cid, record] of p.minios.containers) {
    const { spaces, vmas } = readSlots(p, cid);
    for (const tid of record.tasks.keys()) {
      const space = taskAddressSpace(p.minios, cid, tid);
      if (space !== undefined)
        expect(spaces.some((s) => s.root === space.root && s.asid === space.asid)).toBe(true);
    }
    for (const space of spaces) {
      const tables = new Set<number>();
      const leaves: Leaf[] = [];
      walkTree(p, space.root, 0, 0, tables, leaves, []);
      for (const t of tables) {
        expect(own.describe(own.indexOf(t))).toBe(`PT(${cid})`);
        expect(tablePages.has(t)).toBe(false);
        tablePages.add(t);
      }
      const mine = vmas.filter((v) => v.space === space.id);
      userLeaves += leaves.length;
      for (const leaf of leaves) {
        const writable = ((leaf.low >>> 7) & 1) === 0;
        const userExec = ((leaf.high >>> 22) & 1) === 0;
        expect((leaf.low & 0x840) === 0x840).toBe(true); // nG and EL0 access
        expect(((leaf.high >>> 21) & 1) === 1).toBe(true); // PXN
        expect(writable && userExec).toBe(false);
        const vma = mine.find((v) => v.start <= leaf.va && leaf.va + SPAN[leaf.level]! <= v.end);
        expect(vma).toBeDefined();
        expect((vma!.prot & R) !== 0).toBe(true);
        if (writable) expect(vma!.prot & VmaProt.Write).not.toBe(0);
        if (userExec) expect(vma!.prot & VmaProt.Exec).not.toBe(0);
        for (const pa of granulesOf(leaf)) {
          expect(own.describe(own.indexOf(pa))).toBe(`CTR(${cid})`);
          expect(openIn(p, p.minios.views.osL0, pa)).toBe(false);
          if (userExec) expect(kernelWritable.has(pa)).toBe(false);
        }
      }
    }
  }
  const root = p.firmware.layout.root;
  const forbidden = (pa: number): boolean => {
    const kind = own.kindAt(pa);
    return (
      tablePages.has(pa) ||
      (pa >= image.base && pa < image.base + image.size) ||
      kind === Owner.Mini ||
      kind === Owner.PtOs ||
      kind === Owner.Root
    );
  };
  for (const leaf of kernelLeaves) {
    expect(((leaf.high >>> 22) & 1) === 1).toBe(true); // UXN
    expect((leaf.low & 0x40) === 0).toBe(true); // EL1 only
    expect(leaf.pa < root.base + root.size && root.base < leaf.pa + SPAN[leaf.level]!).toBe(false);
    if (((leaf.low >>> 7) & 1) === 0) expect(granulesOf(leaf).filter(forbidden)).toEqual([]);
    // Through the MMU: a write the kernel could make lands on a permitted page.
    const out = probeKernel(p, leaf.va, Access.Write);
    if (out.fault === MmuFault.None) expect(forbidden(out.pa - (out.pa % 4096))).toBe(false);
  }
  return { userLeaves, kernelLeaves: kernelLeaves.length };
}

/** A call the stand-in kernel (honest or forging) makes. */
type MemStep =
  | { op: 'malloc'; cid: number; slot: number; count: number; kind: number }
  | { op: 'clone'; cid: number; parent: number; root: number; flags: number }
  | { op: 'exec' | 'exit'; cid: number; task: number; root: number }
  | { op: 'vma'; cid: number; task: number; va: number; pages: number; prot: number }
  | {
      op: 'map';
      cid: number;
      task: number;
      va: number;
      level: number;
      target: number;
      tables: number[];
      write: boolean;
      exec: boolean;
    }
  | { op: 'kmap'; va: number; level: number; target: number; tables: number[]; write: boolean; exec: boolean }
  | {
      op: 'pte';
      space: number;
      task: number;
      va: number;
      level: number;
      target: number;
      lowBits: number;
      high: number;
    }
  | { op: 'copy'; cid: number; dst: number; src: number }
  | { op: 'forged'; call: number; args: number[] };

/** User VAs, the ones inside the first VMAs of propertyWorld first (picked more often). */
const USER_VAS = [
  VA,
  VA + 0x1000,
  VA + 0x2000,
  VA + 0x3000,
  0x100_0000,
  0x100_1000,
  VA + SPAN[2],
  0x8000,
  0x7fff_ffff_f000,
  0x80_0000,
  0x4000_0000,
  -4096,
];
const KERNEL_VAS = [
  KVA,
  KVA + 0x1000,
  KVA + SPAN[2],
  KVA + SPAN[1],
  -(2 ** 47),
  -(2 ** 47) + 0x8000_0000,
  -4096,
  0x1000,
];

/** Physical pages a step may name: the OS pool, kernel image, tables, MINI, GPTs, shims, Root, MMIO. */
function namedPages(p: TestPlatform): number[] {
  const image = kernelImage(p);
  const shims = [...p.minios.containers.values()].map((c) => p.minios.ownership.paOf(c.shim[0]!));
  return [
    ...OS_POOL,
    image.base + 0x1000,
    image.base + 0x1_0000,
    p.minios.kernelRoot,
    p.minios.boot.miniRegion.base,
    p.minios.views.osL0,
    p.firmware.layout.root.base,
    p.firmware.layout.smmu.base + 0x2_0000,
    p.firmware.layout.block.base,
    KERNEL_SCRATCH,
    0x9020_0000,
    ...shims,
  ];
}

const pick = <T>(list: readonly T[], i: number): T => list[((i % list.length) + list.length) % list.length]!;

function taskOf(p: TestPlatform, cid: number, i: number): number {
  const tasks = [...(p.minios.containers.get(cid)?.tasks.keys() ?? [])];
  return i < tasks.length ? tasks[i]! : i;
}

/** Resolve a page pick: even picks from `preferred` (when non-empty), odd ones from every named page. */
function page(p: TestPlatform, preferred: readonly number[], i: number): number {
  return i % 2 === 0 && preferred.length > 0 ? pick(preferred, i >> 1) : pick(namedPages(p), i >> 1);
}

/** PT(cid) pages in no tree: what an honest kernel would pick for a new table. */
function freePtOf(p: TestPlatform, cid: number): number[] {
  const used = new Set<number>();
  if (p.minios.containers.has(cid))
    for (const space of readSlots(p, cid).spaces) walkTree(p, space.root, 0, 0, used, [], []);
  return ptOf(p, cid).filter((pa) => !used.has(pa));
}

/** OS pages of the pool: what an honest kernel would pick for its tables and data. */
const freeOsOf = (p: TestPlatform): number[] =>
  OS_POOL.filter((pa) => p.minios.ownership.kindAt(pa) === Owner.Os);

const ctrOf = (p: TestPlatform, cid: number): number[] =>
  [...(p.minios.containers.get(cid)?.ctr ?? [])].map((i) => p.minios.ownership.paOf(i));
const ptOf = (p: TestPlatform, cid: number): number[] =>
  [...(p.minios.containers.get(cid)?.pt ?? [])].map((i) => p.minios.ownership.paOf(i));

/** The stand-in kernel's honest mapping routine: link missing tables (picked), then the leaf. */
function mapThrough(
  p: TestPlatform,
  space: number,
  tid: number,
  root: number,
  va: number,
  level: number,
  leaf: Pair,
  tables: readonly number[],
): void {
  let table = root;
  const bits = va < 0 ? va + TWO48 : va;
  for (let l = 0; l < level; l++) {
    const at = table + 8 * (Math.floor(bits / SPAN[l]!) % 512);
    const low = p.machine.memory.read32(at);
    const high = p.machine.memory.read32(at + 4);
    if ((low & 3) === 3) {
      table = (high & 0xfffff) * 2 ** 32 + ((low & 0xfffff000) >>> 0);
      continue;
    }
    const next = tables[l]!;
    if (setPte(p, space, tid, alignDown(va, l), tableDesc(next), l) !== 0) return;
    table = next;
  }
  setPte(p, space, tid, alignDown(va, level), leaf, level);
}

function runStep(p: TestPlatform, s: MemStep): void {
  switch (s.op) {
    case 'malloc':
      p.call(RcCall.MallocMm, s.cid, pick(OS_POOL, s.slot), s.count, s.kind);
      break;
    case 'clone': {
      const root = s.root < 0 ? 0 : page(p, ptOf(p, s.cid), s.root);
      p.call(RcCall.TaskClone, s.cid, s.parent === 0 ? 0 : taskOf(p, s.cid, s.parent - 1), root, s.flags);
      break;
    }
    case 'exec': {
      const root = s.root < 0 ? 0 : page(p, ptOf(p, s.cid), s.root);
      p.call(RcCall.TaskExec, s.cid, taskOf(p, s.cid, s.task), DIGEST_PA, 0x40_0000, root);
      break;
    }
    case 'exit':
      p.call(RcCall.TaskExit, s.cid, taskOf(p, s.cid, s.task));
      break;
    case 'vma': {
      const start = pick(USER_VAS, s.va);
      p.call(RcCall.SetVma, s.cid, taskOf(p, s.cid, s.task), start, start + s.pages * 4096, s.prot);
      break;
    }
    case 'map': {
      const tid = taskOf(p, s.cid, s.task);
      const space = taskAddressSpace(p.minios, s.cid, tid);
      const va = pick(USER_VAS, s.va);
      const ctr = ctrOf(p, s.cid);
      // Mostly an honest kernel: one of c's pages, with the permissions of the VMA; else anything.
      const target = s.target % 8 === 0 || ctr.length === 0 ? page(p, [], s.target) : pick(ctr, s.target);
      let { write, exec } = s;
      const vma =
        space === undefined ? undefined : readSlots(p, s.cid).vmas.find((v) => v.start <= va && va < v.end);
      if (s.target % 3 !== 0 && vma !== undefined) {
        write = (vma.prot & VmaProt.Write) !== 0;
        exec = !write && (vma.prot & VmaProt.Exec) !== 0;
      }
      const leaf = userLeaf(target - (target % SPAN[s.level]!), { write, exec, level: s.level as 1 | 2 | 3 });
      const free = freePtOf(p, s.cid);
      const tables = s.tables.map((t, l) => (t % 4 === 0 ? page(p, [], t) : (free[l] ?? 0)));
      if (space === undefined) setPte(p, s.cid, tid, va, leaf, s.level);
      else mapThrough(p, s.cid, tid, space.root, va, s.level, leaf, tables);
      break;
    }
    case 'kmap': {
      const free = freeOsOf(p);
      const target = page(p, free, s.target);
      const leaf = kernelLeaf(target - (target % SPAN[s.level]!), {
        write: s.write,
        exec: s.exec,
        level: s.level as 1 | 2 | 3,
      });
      const tables = s.tables.map((t, l) => (t % 4 === 0 ? page(p, [], t) : pick(free, t + l)));
      mapThrough(p, PteSpace.Kernel, 0, p.minios.kernelRoot, pick(KERNEL_VAS, s.va), s.level, leaf, tables);
      break;
    }
    case 'pte': {
      const target = page(p, [], s.target);
      const low = ((target % 2 ** 32) | s.lowBits) >>> 0;
      p.call(
        RcCall.SetPte,
        s.space,
        taskOf(p, s.space, s.task),
        pick([...USER_VAS, ...KERNEL_VAS], s.va),
        low,
        s.high,
        s.level,
      );
      break;
    }
    case 'copy':
      p.call(RcCall.CopyPage, s.cid, page(p, ctrOf(p, s.cid), s.dst), page(p, [], s.src));
      break;
    case 'forged':
      p.call(s.call, ...s.args);
      break;
  }
}

const cidArb = fc.integer({ min: 1, max: 2 });
const taskArb = fc.constantFrom(0, 0, 0, 0, 1, 2, 9);
const pageArb = fc.integer({ min: 0, max: 400 });
const wildArb = fc.oneof(
  fc.integer({ min: -5, max: 70_000 }),
  fc.constantFrom(
    0x9000_0000,
    0x9000_1000,
    VA,
    KVA,
    -(2 ** 47),
    2 ** 48,
    2 ** 52 - 4096,
    0xffff_ffff,
    0x40_0713,
  ),
);
const memStep: fc.Arbitrary<MemStep> = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant('malloc' as const),
      cid: cidArb,
      slot: fc.integer({ min: 0, max: 63 }),
      count: fc.integer({ min: 1, max: 2 }),
      kind: fc.constantFrom(MallocKind.Ctr, MallocKind.Pt, MallocKind.Shim),
    }),
    weight: 2,
  },
  fc.record({
    op: fc.constant('clone' as const),
    cid: cidArb,
    parent: taskArb,
    root: fc.integer({ min: -1, max: 400 }),
    flags: fc.constantFrom(0, 0, CloneFlag.Vm, 0x11),
  }),
  fc.record({
    op: fc.constantFrom('exec' as const, 'exit' as const),
    cid: cidArb,
    task: taskArb,
    root: fc.integer({ min: -1, max: 400 }),
  }),
  {
    arbitrary: fc.record({
      op: fc.constant('vma' as const),
      cid: cidArb,
      task: taskArb,
      va: fc.nat(20),
      pages: fc.integer({ min: 0, max: 600 }),
      prot: fc.constantFrom(0, R, RW, RX, 7, VmaFlag.Remove),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('map' as const),
      cid: cidArb,
      task: taskArb,
      va: fc.oneof(fc.nat(5), fc.nat(20)),
      level: fc.constantFrom(3, 3, 3, 3, 3, 2),
      target: pageArb,
      tables: fc.array(pageArb, { minLength: 3, maxLength: 3 }),
      write: fc.boolean(),
      exec: fc.constantFrom(false, false, false, true),
    }),
    weight: 5,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('kmap' as const),
      va: fc.nat(20),
      level: fc.constantFrom(3, 3, 2, 1),
      target: pageArb,
      tables: fc.array(pageArb, { minLength: 3, maxLength: 3 }),
      write: fc.boolean(),
      exec: fc.constantFrom(false, false, false, true),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('pte' as const),
      space: fc.constantFrom(0, 1, 2, 3, -1),
      task: taskArb,
      va: fc.nat(30),
      level: fc.integer({ min: -1, max: 4 }),
      target: pageArb,
      lowBits: fc.integer({ min: 0, max: 0xfff }),
      high: fc.oneof(
        fc.constantFrom(0, 0x60_0000, 0x40_0000, 0x20_0000, 0x10_0000, 0x8_0000, 0x1_0000),
        fc.integer({ min: 0, max: 0xffff_ffff }),
      ),
    }),
    weight: 4,
  },
  fc.record({ op: fc.constant('copy' as const), cid: cidArb, dst: pageArb, src: pageArb }),
  fc.record({
    op: fc.constant('forged' as const),
    call: fc.constantFrom(5, 6, 7, 8, 12, 13, 14),
    args: fc.array(wildArb, { maxLength: 6 }),
  }),
);

/** Containers 1 and 2, each with CTR and PT memory, one task with an address space and two VMAs. */
function propertyWorld(): TestPlatform {
  const p = bootTestPlatform();
  p.machine.memory.writeBytes(DIGEST_PA, new Uint8Array(32).fill(3));
  for (const [cid, first] of [
    [1, 0],
    [2, 32],
  ] as const) {
    bind(p, cid);
    give(p, cid, OS_POOL.slice(first, first + 6), MallocKind.Ctr);
    give(p, cid, OS_POOL.slice(first + 6, first + 14), MallocKind.Pt);
    const tid = p.call(RcCall.TaskClone, cid, 0, OS_POOL[first + 6]!, 0);
    expect(p.call(RcCall.SetVma, cid, tid, VA, VA + SPAN[2], RW)).toBe(0);
    expect(p.call(RcCall.SetVma, cid, tid, 0x100_0000, 0x100_0000 + SPAN[2], RX)).toBe(0);
  }
  return p;
}

describe('random and forged memory-call sequences', () => {
  it('keep every container leaf on its own memory inside its VMAs, and every kernel-writable page off tables, text and MINI', () => {
    let mapped = 0;
    let kernelMapped = 0;
    fc.assert(
      fc.property(fc.array(memStep, { minLength: 5, maxLength: 30 }), (steps) => {
        const p = propertyWorld();
        for (const s of steps) {
          runStep(p, s);
          expect(p.pe.halted).toBeUndefined();
          expect(p.pe.el).toBe(1);
          expect(p.pe.regs.number('GPTBR_EL3') * 4096).toBe(p.minios.views.osL0);
          const seen = checkInvariants(p);
          mapped += seen.userLeaves;
          kernelMapped += seen.kernelLeaves;
        }
      }),
      { seed: 4242, numRuns: 40 },
    );
    // The sequences did reach the interesting states (leaves counted after every step).
    expect(mapped).toBeGreaterThan(50);
    expect(kernelMapped).toBeGreaterThan(50);
  });

  it('scrub what an exiting address space alone mapped, whatever happened before', () => {
    let scrubbed = 0;
    fc.assert(
      // No exit or exec in the sequence: the address spaces it built all die at the end.
      fc.property(
        fc.array(
          memStep.filter((s) => s.op !== 'exit' && s.op !== 'exec'),
          { minLength: 5, maxLength: 25 },
        ),
        (steps) => {
          const p = propertyWorld();
          for (const s of steps) runStep(p, s);
          // Every container page mapped by a leaf gets a secret; then every task exits.
          const mappedPages = new Set<number>();
          for (const [cid] of p.minios.containers) {
            for (const space of readSlots(p, cid).spaces) {
              const leaves: Leaf[] = [];
              walkTree(p, space.root, 0, 0, new Set(), leaves, []);
              for (const leaf of leaves) for (const pa of granulesOf(leaf)) mappedPages.add(pa);
            }
          }
          for (const pa of mappedPages) p.machine.memory.write32(pa, 0x5ec2e7);
          for (const [cid, record] of p.minios.containers) {
            for (const tid of [...record.tasks.keys()]) expect(p.call(RcCall.TaskExit, cid, tid)).toBe(0);
            expect(readSlots(p, cid)).toEqual({ spaces: [], vmas: [] });
            for (const pa of ptOf(p, cid)) expect(isZero(p, pa)).toBe(true);
          }
          for (const pa of mappedPages) expect(p.machine.memory.read32(pa)).toBe(0);
          scrubbed += mappedPages.size;
          checkInvariants(p);
        },
      ),
      { seed: 7, numRuns: 40 },
    );
    expect(scrubbed).toBeGreaterThan(5);
  });
});
