// Host address spaces (rc_host_space_create/destroy/switch and rc_set_pte(0, id, ...)), through the
// real gate only. Checks look at the machine: descriptors read from simulated memory, translations
// by the PE's own walker (pe.probe) and EL0 loads and stores through its TLB after the switch.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { leafDescriptor } from '../../src/hw/layout.js';
import { Access, MmuFault, TranslationResult } from '../../src/hw/mmu.js';
import {
  CONTAINER_ASIDS,
  HOST_ASIDS,
  MallocKind,
  Owner,
  PteSpace,
  RcCall,
  RcError,
} from '../../src/minios/abi.js';
import { hostAddressSpace } from '../../src/minios/calls-memory.js';
import { bootTestPlatform, kernelCall, OS_POOL, type TestPlatform } from './platform-helpers.js';
import {
  alignDown,
  bindContainer as bindContainerWith,
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

/** A user VA: L0 0, L1 0, L2 2, L3 0. */
const VA = 0x40_0000;
/** A kernel VA under L0 entry 1 of the kernel root. */
const KVA = -TWO48 + 2 ** 39;

/** A host page descriptor: the same EL0 descriptor a container task uses. */
const hostLeaf = userLeaf;

/** rc_set_pte into host space `id`. */
const hostPte = (p: TestPlatform, id: number, va: number, d: Pair, level = 3): number =>
  setPte(p, PteSpace.Kernel, id, va, d, level);

const linkHost = (p: TestPlatform, id: number, va: number, tables: readonly number[]): void =>
  linkTables(p, PteSpace.Kernel, id, va, tables);

const linkKernel = (p: TestPlatform, va: number, tables: readonly number[]): void =>
  linkTables(p, PteSpace.Kernel, 0, va, tables);

/** Switch the calling PE (default PE 0) to host space `id` through the gate, then run at EL0. */
function enterHost(p: TestPlatform, id: number): void {
  expect(p.call(RcCall.HostSpaceSwitch, id)).toBe(0);
  p.pe.reset(0);
}

function backToKernel(p: TestPlatform): void {
  p.pe.reset(1);
}

function probe(p: TestPlatform, va: number, access: Access, el = 0): TranslationResult {
  const out = new TranslationResult();
  p.pe.probe(va, el, access, out);
  return out;
}

interface World {
  readonly p: TestPlatform;
  readonly id: number;
  readonly root: number;
  /** Host tables for VA at levels 1..3. */
  readonly tables: readonly number[];
  /** OS data pages. */
  readonly data: readonly number[];
}

/** A host space rooted at OS_POOL[0] with the tables for VA linked (OS_POOL[1..3]). */
function world(machine: Parameters<typeof bootTestPlatform>[1] = {}): World {
  const p = bootTestPlatform({}, machine);
  const root = OS_POOL[0]!;
  p.machine.memory.write32(root + 8, 0xdead_beef); // garbage the mini-OS must scrub
  const id = p.call(RcCall.HostSpaceCreate, root);
  expect(id).toBeGreaterThanOrEqual(1);
  const tables = OS_POOL.slice(1, 4);
  linkHost(p, id, VA, tables);
  return { p, id, root, tables, data: OS_POOL.slice(10, 20) };
}

const bindContainer = (p: TestPlatform, cid: number): void => bindContainerWith(p, cid);

/** Everything about host space `id` read from memory: its tables and leaves. */
function snapshot(p: TestPlatform, id: number): { tables: number[]; leaves: Leaf[] } {
  const space = hostAddressSpace(p.minios, id)!;
  const tables = new Set<number>();
  const leaves: Leaf[] = [];
  walkTree(p, space.root, 0, 0, tables, leaves);
  return { tables: [...tables], leaves };
}

// ------------------------------------------------------------------------------------ the API

describe('host address spaces', () => {
  it('a host process reads and writes its OS pages at EL0 after rc_host_space_switch', () => {
    const { p, id, root, tables, data } = world();
    const own = p.minios.ownership;
    const space = hostAddressSpace(p.minios, id)!;
    expect(space.root).toBe(root);
    expect(space.asid).toBeGreaterThanOrEqual(HOST_ASIDS.base);
    expect(space.asid).toBeLessThan(HOST_ASIDS.base + HOST_ASIDS.count);
    expect(space.asid).toBeLessThan(CONTAINER_ASIDS.base);
    // The root and tables are PT(os), linked where the kernel asked (read from memory).
    for (const t of [root, ...tables]) expect(own.kindAt(t)).toBe(Owner.PtOs);
    expect(p.machine.memory.read32(root + 8)).toBe(0); // scrubbed
    const seen = snapshot(p, id);
    expect(seen.tables).toEqual([root, ...tables]);
    expect(seen.leaves).toEqual([]);

    p.machine.memory.write32(data[0]!, 0x1234_5678);
    expect(hostPte(p, id, VA, hostLeaf(data[0]!))).toBe(0);
    expect(hostPte(p, id, VA + 0x1000, hostLeaf(data[1]!, { write: false, exec: true }))).toBe(0);
    expect(snapshot(p, id).leaves.map((l) => [l.va, l.pa])).toEqual([
      [VA, data[0]],
      [VA + 0x1000, data[1]],
    ]);

    // The kernel cannot write the PE's TTBR0_EL1; the mini-OS loads root | ASID << 48 for it.
    expect(p.call(RcCall.HostSpaceSwitch, id)).toBe(0);
    const [low, high] = p.pe.regs.pair('TTBR0_EL1');
    expect(low).toBe(root % 2 ** 32);
    expect(high).toBe((Math.floor(root / 2 ** 32) | (space.asid << 16)) >>> 0);
    expect(p.pe.el).toBe(1);
    expect(p.pe.regs.number('GPTBR_EL3') * 4096).toBe(p.minios.views.osL0);
    // Through the PE's walker.
    expect(probe(p, VA, Access.Read).pa).toBe(data[0]);
    expect(probe(p, VA, Access.Write).fault).toBe(MmuFault.None);
    expect(probe(p, VA, Access.Fetch).fault).toBe(MmuFault.Permission); // UXN
    expect(probe(p, VA, Access.Fetch, 1).fault).toBe(MmuFault.Permission); // PXN
    expect(probe(p, VA + 0x1000, Access.Fetch).fault).toBe(MmuFault.None);
    expect(probe(p, VA + 0x1000, Access.Write).fault).toBe(MmuFault.Permission);
    expect(probe(p, VA + 0x2000, Access.Read).fault).toBe(MmuFault.Translation);
    // Through the real load/store path at EL0.
    p.pe.reset(0);
    expect(p.pe.load32(VA)).toBe(0x1234_5678);
    expect(p.pe.lastFault).toBe(0);
    p.pe.store32(VA + 4, 0xcafe);
    expect(p.pe.lastFault).toBe(0);
    expect(p.machine.memory.read32(data[0]! + 4)).toBe(0xcafe);
    backToKernel(p);
  });

  it('switches a PE between host processes: the same VA reaches each one its own page (ASID-tagged)', () => {
    const { p, id, data } = world({ gptTaggedTlb: true, tlbEntries: 1 << 16 });
    const other = p.call(RcCall.HostSpaceCreate, OS_POOL[4]!);
    expect(other).toBeGreaterThan(id);
    linkHost(p, other, VA, OS_POOL.slice(5, 8));
    expect(hostAddressSpace(p.minios, other)!.asid).not.toBe(hostAddressSpace(p.minios, id)!.asid);
    p.machine.memory.write32(data[0]!, 0xaaaa);
    p.machine.memory.write32(data[1]!, 0xbbbb);
    expect(hostPte(p, id, VA, hostLeaf(data[0]!))).toBe(0);
    expect(hostPte(p, other, VA, hostLeaf(data[1]!))).toBe(0);
    for (const [space, expected] of [
      [id, 0xaaaa],
      [other, 0xbbbb],
      [id, 0xaaaa],
      [other, 0xbbbb],
    ] as const) {
      enterHost(p, space);
      expect(p.pe.load32(VA)).toBe(expected);
      expect(p.pe.lastFault).toBe(0);
      backToKernel(p);
    }
    // A remap is seen at once (TLBI VAE1IS with the space's ASID), also on the other PE.
    const pe1 = p.machine.pes[1]!;
    expect(kernelCall(pe1, RcCall.HostSpaceSwitch, id)).toBe(0);
    pe1.reset(0);
    expect(pe1.load32(VA)).toBe(0xaaaa);
    pe1.reset(1);
    expect(hostPte(p, id, VA, hostLeaf(data[1]!))).toBe(0);
    pe1.reset(0);
    expect(pe1.load32(VA)).toBe(0xbbbb);
    pe1.reset(1);
  });

  it('destroy scrubs the tables, gives them back to the OS, drops the TLB entries of the ASID and frees it', () => {
    const { p, id, root, tables, data } = world({ gptTaggedTlb: true, tlbEntries: 1 << 16 });
    const spare = p.call(RcCall.HostSpaceCreate, OS_POOL[4]!);
    const asid = hostAddressSpace(p.minios, id)!.asid;
    expect(hostPte(p, id, VA, hostLeaf(data[0]!))).toBe(0);
    expect(hostPte(p, id, VA + 0x1000, hostLeaf(data[1]!, { write: false }))).toBe(0);
    p.machine.memory.write32(data[0]!, 0x5157);
    enterHost(p, id);
    expect(p.pe.load32(VA)).toBe(0x5157);
    backToKernel(p);
    // Valid entries tagged with the ASID (an invalidated entry has no VPN).
    const tlb = p.pe.tlb;
    const tagged = (): number =>
      Array.from(tlb.asid).filter((a, i) => a === asid && tlb.vpn[i] === tlb.vpn[i]).length;
    expect(tagged()).toBeGreaterThan(0);
    // Loaded in TTBR0_EL1 of this PE, then of the other one: busy.
    expect(p.call(RcCall.HostSpaceDestroy, id)).toBe(RcError.EBUSY);
    expect(p.call(RcCall.HostSpaceSwitch, spare)).toBe(0);
    const pe1 = p.machine.pes[1]!;
    expect(kernelCall(pe1, RcCall.HostSpaceSwitch, id)).toBe(0);
    expect(p.call(RcCall.HostSpaceDestroy, id)).toBe(RcError.EBUSY);
    expect(kernelCall(pe1, RcCall.HostSpaceSwitch, spare)).toBe(0);
    // While a host leaf maps them, the data pages stay OS memory.
    bindContainer(p, 1);
    expect(p.call(RcCall.MallocMm, 1, data[0]!, 1, MallocKind.Ctr)).toBe(RcError.EBUSY);
    expect(p.call(RcCall.MallocMm, 1, data[1]!, 1, MallocKind.Pt)).toBe(RcError.EBUSY);

    expect(p.call(RcCall.HostSpaceDestroy, id)).toBe(0);
    expect(tagged()).toBe(0);
    for (const t of [root, ...tables]) {
      expect(p.minios.ownership.kindAt(t)).toBe(Owner.Os);
      expect(isZero(p, t)).toBe(true);
    }
    expect(p.machine.memory.read32(data[0]!)).toBe(0x5157); // host memory is the kernel's to scrub
    expect(hostAddressSpace(p.minios, id)).toBeUndefined();
    expect(p.call(RcCall.HostSpaceDestroy, id)).toBe(RcError.ENOENT);
    expect(p.call(RcCall.HostSpaceSwitch, id)).toBe(RcError.ENOENT);
    expect(hostPte(p, id, VA, hostLeaf(data[0]!))).toBe(RcError.ENOENT);
    // The counts went with it: the pages can now leave the OS.
    expect(p.call(RcCall.MallocMm, 1, data[0]!, 1, MallocKind.Ctr)).toBe(0);
    expect(p.call(RcCall.MallocMm, 1, data[1]!, 1, MallocKind.Pt)).toBe(0);
    // Its tables and ASID are free again.
    const again = p.call(RcCall.HostSpaceCreate, root);
    expect(again).toBeGreaterThan(spare);
    linkHost(p, again, VA, tables);
  });

  it('rc_switch_to_depriv takes the host space out of the PE, so that it can be destroyed', () => {
    const { p, id } = world();
    bindContainer(p, 1);
    const ptRoot = OS_POOL[30]!;
    expect(p.call(RcCall.MallocMm, 1, ptRoot, 1, MallocKind.Pt)).toBe(0);
    const tid = p.call(RcCall.TaskClone, 1, 0, 0, 0);
    p.machine.memory.writeBytes(OS_POOL[31]!, new Uint8Array(32).fill(7));
    expect(p.call(RcCall.TaskExec, 1, tid, OS_POOL[31]!, VA, ptRoot)).toBe(0);
    enterHost(p, id);
    backToKernel(p);
    expect(p.call(RcCall.HostSpaceDestroy, id)).toBe(RcError.EBUSY);
    p.call(RcCall.SwitchToDepriv, 1, tid);
    expect(p.pe.el).toBe(0); // in the task, under shim-GPT(1)
    // Back in the OS context (a harness step), the host space is no longer in any TTBR0_EL1.
    p.pe.setSysRegRaw('GPTBR_EL3', p.minios.views.osL0 / 4096, 0);
    p.pe.invalidateGptInfoAll();
    p.pe.reset(1);
    expect(p.call(RcCall.HostSpaceDestroy, id)).toBe(0);
  });
});

// ------------------------------------------------------------------------------------ refusals

describe('host address space refusals', () => {
  it('rc_host_space_create refuses malformed roots and every page that is not a free OS page', () => {
    const { p, id, tables, data } = world();
    bindContainer(p, 1);
    expect(p.call(RcCall.MallocMm, 1, OS_POOL[40]!, 1, MallocKind.Ctr)).toBe(0);
    expect(p.call(RcCall.MallocMm, 1, OS_POOL[41]!, 1, MallocKind.Pt)).toBe(0);
    linkKernel(p, KVA, OS_POOL.slice(20, 23));
    expect(setPte(p, PteSpace.Kernel, 0, KVA, kernelLeaf(data[2]!), 3)).toBe(0); // kernel-writable
    expect(hostPte(p, id, VA, hostLeaf(data[3]!, { write: false }))).toBe(0); // host-mapped (read-only)
    const image = p.firmware.bootInfo.kernelBase;
    const cases: [string, number, number][] = [
      ['unaligned', OS_POOL[50]! + 8, RcError.EINVAL],
      ['negative', -4096, RcError.EINVAL],
      ['beyond 2^52', 2 ** 52, RcError.EINVAL],
      ['not an integer', 0.5, RcError.EINVAL],
      ['kernel image', image + 0x1000, RcError.EPERM],
      ['kernel root', p.minios.kernelRoot, RcError.EPERM],
      ['trampoline', p.minios.trampoline.pa, RcError.EPERM],
      ["trampoline's L1 table (PT(os))", p.minios.kernelRoot + 2 * 4096, RcError.EPERM],
      ['linked host table', tables[0]!, RcError.EPERM],
      ['linked kernel table', OS_POOL[20]!, RcError.EPERM],
      ['kernel-writable page', data[2]!, RcError.EPERM],
      ['host-mapped page', data[3]!, RcError.EPERM],
      ['MINI', p.minios.boot.miniRegion.base, RcError.EPERM],
      ['GPT', p.minios.views.osL0, RcError.EPERM],
      ['SHIM', p.minios.ownership.paOf(p.minios.containers.get(1)!.shim[0]!), RcError.EPERM],
      ['CTR', OS_POOL[40]!, RcError.EPERM],
      ['PT(c)', OS_POOL[41]!, RcError.EPERM],
      ['Root', p.firmware.layout.root.base, RcError.EPERM],
      ['MMIO', p.firmware.layout.block.base, RcError.EPERM],
    ];
    for (const [name, root, expected] of cases) {
      const kind = p.minios.ownership.kindAt(Math.max(0, root - (root % 4096)));
      expect([name, p.call(RcCall.HostSpaceCreate, root)]).toEqual([name, expected]);
      expect([name, p.minios.ownership.kindAt(Math.max(0, root - (root % 4096)))]).toEqual([name, kind]);
    }
  });

  it('rc_set_pte refuses host leaves that are not EL0, nG, PXN and W^X, or that map anything but free OS memory', () => {
    const { p, id, root, tables, data } = world();
    bindContainer(p, 1);
    expect(p.call(RcCall.MallocMm, 1, OS_POOL[40]!, 1, MallocKind.Ctr)).toBe(0);
    expect(p.call(RcCall.MallocMm, 1, OS_POOL[41]!, 1, MallocKind.Pt)).toBe(0);
    const other = p.call(RcCall.HostSpaceCreate, OS_POOL[4]!);
    const image = p.firmware.bootInfo.kernelBase;
    const ok = hostLeaf(data[0]!);
    const bad: [string, Pair, number][] = [
      [
        'EL1-only',
        leafDescriptor(data[0]!, { ap: 0, notGlobal: true, pxn: true, uxn: true }, 3),
        RcError.EPERM,
      ],
      [
        'EL1-only read-only',
        leafDescriptor(data[0]!, { ap: 2, notGlobal: true, pxn: true, uxn: true }, 3),
        RcError.EPERM,
      ],
      [
        'global',
        leafDescriptor(data[0]!, { ap: 1, notGlobal: false, pxn: true, uxn: true }, 3),
        RcError.EPERM,
      ],
      [
        'EL1-executable',
        leafDescriptor(data[0]!, { ap: 3, notGlobal: true, pxn: false, uxn: true }, 3),
        RcError.EPERM,
      ],
      ['W+X', hostLeaf(data[0]!, { exec: true }), RcError.EPERM],
      ['kernel text (read-only)', hostLeaf(image + 0x1000, { write: false }), RcError.EPERM],
      ['kernel text (writable)', hostLeaf(image + 0x1000), RcError.EPERM],
      ['kernel root', hostLeaf(p.minios.kernelRoot, { write: false }), RcError.EPERM],
      ['own root table', hostLeaf(root, { write: false }), RcError.EPERM],
      ['own L3 table', hostLeaf(tables[2]!), RcError.EPERM],
      ["another host space's root", hostLeaf(OS_POOL[4]!, { write: false }), RcError.EPERM],
      ['trampoline', hostLeaf(p.minios.trampoline.pa, { write: false, exec: true }), RcError.EPERM],
      ['MINI', hostLeaf(p.minios.boot.miniRegion.base, { write: false }), RcError.EPERM],
      ['GPT', hostLeaf(p.minios.views.osL0, { write: false }), RcError.EPERM],
      [
        'SHIM',
        hostLeaf(p.minios.ownership.paOf(p.minios.containers.get(1)!.shim[0]!), { write: false }),
        RcError.EPERM,
      ],
      ['CTR', hostLeaf(OS_POOL[40]!), RcError.EPERM],
      ['PT(c)', hostLeaf(OS_POOL[41]!, { write: false }), RcError.EPERM],
      ['Root', hostLeaf(p.firmware.layout.root.base, { write: false }), RcError.EPERM],
      ['MMIO', hostLeaf(p.firmware.layout.block.base), RcError.EPERM],
      ['Contiguous bit', [ok[0], (ok[1] | (1 << 20)) >>> 0], RcError.EINVAL],
      ['OA above 48 bits', [ok[0], (ok[1] | (1 << 16)) >>> 0], RcError.EINVAL],
      ['reserved level-3 encoding', [(ok[0] & ~2) >>> 0, ok[1]], RcError.EINVAL],
    ];
    for (const [name, d, expected] of bad) expect([name, hostPte(p, id, VA, d)]).toEqual([name, expected]);
    // A 2 MiB block over OS memory that holds one of the host tables.
    const blockBase = Math.floor(tables[0]! / SPAN[2]) * SPAN[2];
    expect(
      hostPte(p, id, alignDown(VA, 2) + SPAN[2], hostLeaf(blockBase, { write: false, level: 2 }), 2),
    ).toBe(RcError.EPERM);
    // Malformed arguments.
    const [low, high] = ok;
    const malformed: [number[], number][] = [
      [[0, id, -4096, low, high, 3], RcError.EINVAL], // a kernel VA in a host space
      [[0, id, TWO48, low, high, 3], RcError.EINVAL],
      [[0, id, VA + 0x800, low, high, 3], RcError.EINVAL],
      [[0, id, VA + 0x1000, low, high, 2], RcError.EINVAL], // misaligned for the level
      [[0, id, VA, low, high, 4], RcError.EINVAL],
      [[0, id, alignDown(VA, 2) + 8 * SPAN[2], low, high, 3], RcError.EINVAL], // no table there
      [[0, -1, VA, low, high, 3], RcError.EINVAL],
      [[0, 1.5, VA, low, high, 3], RcError.EINVAL],
      [[0, other + 1, VA, low, high, 3], RcError.ENOENT], // no such host space
    ];
    for (const [args, expected] of malformed)
      expect([args, p.call(RcCall.SetPte, ...args)]).toEqual([args, expected]);
    // Nothing changed.
    expect(snapshot(p, id)).toEqual({ tables: [root, ...tables], leaves: [] });
    expect(hostPte(p, id, VA, ok)).toBe(0);
  });

  it('rc_set_pte refuses host table pages that are not free OS pages, and tables of other trees', () => {
    const { p, id, tables, data } = world();
    const other = p.call(RcCall.HostSpaceCreate, OS_POOL[4]!);
    linkHost(p, other, VA, OS_POOL.slice(5, 8));
    linkKernel(p, KVA, OS_POOL.slice(20, 23));
    expect(setPte(p, PteSpace.Kernel, 0, KVA, kernelLeaf(data[2]!), 3)).toBe(0);
    expect(hostPte(p, id, VA, hostLeaf(data[3]!, { write: false }))).toBe(0);
    const at = alignDown(VA, 2) + SPAN[2]; // the next level-2 entry: no table yet
    const cases: [string, number][] = [
      ['kernel image', p.firmware.bootInfo.kernelBase + 0x2000],
      ['kernel-writable page', data[2]!],
      ['host-mapped page', data[3]!],
      ['linked table of this space', tables[2]!],
      ['table of another host space', OS_POOL[7]!],
      ['kernel table', OS_POOL[22]!],
      ['kernel root', p.minios.kernelRoot],
      ["trampoline's L1 table", p.minios.kernelRoot + 2 * 4096],
      ['trampoline', p.minios.trampoline.pa],
      ['MINI', p.minios.boot.miniRegion.base],
      ['Root', p.firmware.layout.root.base],
      ['MMIO', p.firmware.layout.block.base],
    ];
    for (const [name, pa] of cases)
      expect([name, hostPte(p, id, at, tableDesc(pa), 2)]).toEqual([name, RcError.EPERM]);
    // The kernel's tree cannot take a host table (or the trampoline's) either.
    const kat = alignDown(KVA, 2) + SPAN[2];
    for (const pa of [tables[1]!, p.minios.kernelRoot + 2 * 4096])
      expect(setPte(p, PteSpace.Kernel, 0, kat, tableDesc(pa), 2)).toBe(RcError.EPERM);
    // A host page cannot become a kernel table while mapped; once unmapped it can.
    expect(setPte(p, PteSpace.Kernel, 0, kat, tableDesc(data[3]!), 2)).toBe(RcError.EPERM);
    expect(hostPte(p, id, VA, [0, 0])).toBe(0);
    expect(setPte(p, PteSpace.Kernel, 0, kat, tableDesc(data[3]!), 2)).toBe(0);
    // Replacing a table descriptor whose table still holds a leaf is refused.
    expect(hostPte(p, id, VA, hostLeaf(data[4]!))).toBe(0);
    expect(hostPte(p, id, alignDown(VA, 2), [0, 0], 2)).toBe(RcError.EBUSY);
    expect(hostPte(p, id, VA, [0, 0])).toBe(0);
    expect(hostPte(p, id, alignDown(VA, 2), [0, 0], 2)).toBe(0);
    expect(p.minios.ownership.kindAt(tables[2]!)).toBe(Owner.Os); // unlinked: back to the OS
    expect(isZero(p, tables[2]!)).toBe(true);
  });

  it('rc_host_space_switch only from the OS context; bad ids are refused', () => {
    const { p, id } = world();
    bindContainer(p, 1);
    const before = p.pe.regs.pair('TTBR0_EL1');
    const view = p.minios.views.viewOf(1)!;
    p.pe.setSysRegRaw('GPTBR_EL3', view / 4096, 0);
    p.pe.invalidateGptInfoAll();
    expect(p.call(RcCall.HostSpaceSwitch, id)).toBe(RcError.EPERM);
    expect(p.pe.regs.number('GPTBR_EL3') * 4096).toBe(view);
    p.pe.setSysRegRaw('GPTBR_EL3', p.minios.views.osL0 / 4096, 0);
    p.pe.invalidateGptInfoAll();
    for (const [bad, expected] of [
      [0, RcError.EINVAL],
      [-1, RcError.EINVAL],
      [0.5, RcError.EINVAL],
      [2 ** 53, RcError.EINVAL],
      [id + 1, RcError.ENOENT],
    ] as const) {
      expect([bad, p.call(RcCall.HostSpaceSwitch, bad)]).toEqual([bad, expected]);
      expect([bad, p.call(RcCall.HostSpaceDestroy, bad)]).toEqual([bad, expected]);
    }
    expect(p.pe.regs.pair('TTBR0_EL1')).toEqual(before);
    // The kernel itself still cannot write TTBR0_EL1.
    expect(p.pe.msrNumber('TTBR0_EL1', OS_POOL[50]!)).toBe(false);
  });

  it('runs out of host ASIDs (ENOMEM), never handing out a container ASID', () => {
    const p = bootTestPlatform();
    const asids = new Set<number>();
    // OS memory well away from the pool: one root per space.
    const base = 0xc000_0000;
    for (let i = 0; i < HOST_ASIDS.count; i++) {
      const id = p.call(RcCall.HostSpaceCreate, base + i * 4096);
      expect(id).toBeGreaterThan(0);
      asids.add(hostAddressSpace(p.minios, id)!.asid);
    }
    expect(asids.size).toBe(HOST_ASIDS.count);
    expect(Math.max(...asids)).toBeLessThan(CONTAINER_ASIDS.base);
    expect(p.call(RcCall.HostSpaceCreate, base + HOST_ASIDS.count * 4096)).toBe(RcError.ENOMEM);
    expect(p.minios.ownership.kindAt(base + HOST_ASIDS.count * 4096)).toBe(Owner.Os);
  });
});

// ------------------------------------------------------------------------------------ property

/** A call the stand-in kernel (honest or forging) makes. */
type HostStep =
  | { op: 'create'; page: number }
  | { op: 'destroy' | 'switch'; space: number }
  | {
      op: 'map';
      space: number;
      va: number;
      level: number;
      target: number;
      tables: number[];
      write: boolean;
      exec: boolean;
      bits: number;
    }
  | { op: 'unmap'; space: number; va: number; level: number }
  | { op: 'kmap'; va: number; target: number; tables: number[]; write: boolean }
  | { op: 'malloc'; page: number; kind: number };

const HOST_VAS = [VA, VA + 0x1000, VA + SPAN[2], 0x4000_0000, 0x7fff_ffff_f000];
const KERNEL_VAS = [KVA, KVA + 0x1000, KVA + SPAN[2]];

/** Every page a step may name: the OS pool first (honest picks), then protected pages. */
function namedPages(p: TestPlatform): number[] {
  const image = p.firmware.bootInfo.kernelBase;
  return [
    ...OS_POOL,
    image + 0x1000,
    p.minios.kernelRoot,
    p.minios.trampoline.pa,
    p.minios.kernelRoot + 2 * 4096,
    p.minios.boot.miniRegion.base,
    p.minios.views.osL0,
    p.firmware.layout.root.base,
    p.firmware.layout.block.base,
    p.minios.ownership.paOf(p.minios.containers.get(1)!.shim[0]!),
  ];
}

const pick = <T>(list: readonly T[], i: number): T => list[((i % list.length) + list.length) % list.length]!;

function runHostStep(p: TestPlatform, spaces: number[], s: HostStep): void {
  const pages = namedPages(p);
  // Mostly an honest kernel: a page that is still the OS's; else any named page.
  const osPages = OS_POOL.slice(0, 20).filter((pa) => p.minios.ownership.kindAt(pa) === Owner.Os); // few: they collide
  const choose = (i: number): number =>
    i % 4 === 0 || osPages.length === 0 ? pick(pages, i) : pick(osPages, i);
  // Mostly a live space; else a raw (probably unknown) id.
  const spaceId = (i: number): number => (spaces.length === 0 || i >= 7 ? i : pick(spaces, i));
  switch (s.op) {
    case 'create': {
      const id = p.call(RcCall.HostSpaceCreate, choose(s.page));
      if (id > 0) spaces.push(id);
      break;
    }
    case 'destroy': {
      const id = spaceId(s.space);
      if (p.call(RcCall.HostSpaceDestroy, id) === 0) spaces.splice(spaces.indexOf(id), 1);
      break;
    }
    case 'switch':
      p.call(RcCall.HostSpaceSwitch, spaceId(s.space));
      break;
    case 'map': {
      const id = spaceId(s.space);
      const va = pick(HOST_VAS, s.va);
      const target = choose(s.target);
      const leaf = hostLeaf(target - (target % SPAN[s.level]!), {
        write: s.write,
        exec: s.exec,
        level: s.level as 2 | 3,
      });
      const forged: Pair = [(leaf[0] ^ (s.bits & 0xfc0)) >>> 0, (leaf[1] ^ (s.bits & 0x60_0000)) >>> 0];
      const space = hostAddressSpace(p.minios, id);
      let table = space?.root ?? 0;
      for (let l = 0; l < s.level && space !== undefined; l++) {
        const at = table + 8 * (Math.floor(va / SPAN[l]!) % 512);
        const low = p.machine.memory.read32(at);
        if ((low & 3) === 3) {
          table = (p.machine.memory.read32(at + 4) & 0xfffff) * 2 ** 32 + ((low & 0xfffff000) >>> 0);
          continue;
        }
        const next = choose(s.tables[l]!);
        if (hostPte(p, id, alignDown(va, l), tableDesc(next), l) !== 0) return;
        table = next;
      }
      hostPte(p, id, alignDown(va, s.level), s.bits % 3 === 0 ? forged : leaf, s.level);
      break;
    }
    case 'unmap':
      hostPte(p, spaceId(s.space), alignDown(pick(HOST_VAS, s.va), s.level), [0, 0], s.level);
      break;
    case 'kmap': {
      const va = pick(KERNEL_VAS, s.va);
      let table = p.minios.kernelRoot;
      for (let l = 0; l < 3; l++) {
        const at = table + 8 * (Math.floor((va + TWO48) / SPAN[l]!) % 512);
        const low = p.machine.memory.read32(at);
        if ((low & 3) === 3) {
          table = (p.machine.memory.read32(at + 4) & 0xfffff) * 2 ** 32 + ((low & 0xfffff000) >>> 0);
          continue;
        }
        const next = choose(s.tables[l]!);
        if (setPte(p, PteSpace.Kernel, 0, alignDown(va, l), tableDesc(next), l) !== 0) return;
        table = next;
      }
      setPte(p, PteSpace.Kernel, 0, va, kernelLeaf(choose(s.target), { write: s.write }), 3);
      break;
    }
    case 'malloc':
      p.call(RcCall.MallocMm, 1, choose(s.page), 1, s.kind);
      break;
  }
}

const pageArb = fc.integer({ min: 0, max: 80 });
const hostStep: fc.Arbitrary<HostStep> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('create' as const), page: pageArb }), weight: 2 },
  {
    arbitrary: fc.record({ op: fc.constantFrom('destroy' as const, 'switch' as const), space: fc.nat(8) }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('map' as const),
      space: fc.nat(8),
      va: fc.nat(10),
      level: fc.constantFrom(3, 3, 3, 2),
      target: pageArb,
      tables: fc.array(pageArb, { minLength: 3, maxLength: 3 }),
      write: fc.boolean(),
      exec: fc.constantFrom(false, false, true),
      bits: fc.nat(0xff_ffff),
    }),
    weight: 6,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('unmap' as const),
      space: fc.nat(8),
      va: fc.nat(10),
      level: fc.constantFrom(3, 3, 2),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('kmap' as const),
      va: fc.nat(5),
      target: pageArb,
      tables: fc.array(pageArb, { minLength: 3, maxLength: 3 }),
      write: fc.boolean(),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('malloc' as const),
      page: pageArb,
      kind: fc.constantFrom(MallocKind.Ctr, MallocKind.Pt),
    }),
    weight: 2,
  },
);

/**
 * From memory and the machine: every host tree is made of PT(os) pages in no other tree; every
 * host leaf is EL0, nG, PXN, not W+X, and maps only OS granules outside the kernel image that are
 * no table of any tree; the PE's own walk, in that space at EL0, lands on such a granule.
 */
function checkHostInvariants(p: TestPlatform, spaces: readonly number[]): number {
  const own = p.minios.ownership;
  const image = { base: p.firmware.bootInfo.kernelBase, size: p.firmware.bootInfo.kernelSize };
  const miniL0 = Math.floor((p.minios.params.linearBase + TWO48) / SPAN[0]) % 512;
  const allTables = new Set<number>();
  walkTree(p, p.minios.kernelRoot, 0, -TWO48, allTables, [], [miniL0, p.minios.windowL0Index]);
  const hostLeaves: [number, Leaf][] = [];
  for (const id of spaces) {
    const tables = new Set<number>();
    const leaves: Leaf[] = [];
    walkTree(p, hostAddressSpace(p.minios, id)!.root, 0, 0, tables, leaves);
    for (const t of tables) {
      expect(own.kindAt(t)).toBe(Owner.PtOs);
      expect(allTables.has(t)).toBe(false);
      allTables.add(t);
    }
    for (const leaf of leaves) hostLeaves.push([id, leaf]);
  }
  const protectedPage = (pa: number): boolean =>
    own.indexOf(pa) < 0 ||
    own.kindAt(pa) !== Owner.Os ||
    allTables.has(pa) ||
    pa === p.minios.trampoline.pa ||
    (pa >= image.base && pa < image.base + image.size);
  for (const [id, leaf] of hostLeaves) {
    expect((leaf.low & 0x840) === 0x840).toBe(true); // nG, EL0
    expect(((leaf.high >>> 21) & 1) === 1).toBe(true); // PXN
    expect(((leaf.low >>> 7) & 1) === 0 && ((leaf.high >>> 22) & 1) === 0).toBe(false); // W^X
    expect(granulesOf(leaf).filter(protectedPage)).toEqual([]);
    // Through the machine: on PE 1, in this host space, at EL0.
    const space = hostAddressSpace(p.minios, id)!;
    const pe = p.machine.pes[1]!;
    pe.setSysRegRaw(
      'TTBR0_EL1',
      space.root % 2 ** 32,
      (Math.floor(space.root / 2 ** 32) | (space.asid << 16)) >>> 0,
    );
    const out = new TranslationResult();
    pe.probe(leaf.va, 0, Access.Read, out);
    expect(out.fault).toBe(MmuFault.None);
    expect(protectedPage(out.pa - (out.pa % 4096))).toBe(false);
  }
  return hostLeaves.length;
}

describe('random and forged host-space sequences', () => {
  it('never let a host leaf map a protected page, whatever the kernel asks', () => {
    let leaves = 0;
    fc.assert(
      fc.property(fc.array(hostStep, { minLength: 5, maxLength: 40 }), (steps) => {
        const p = bootTestPlatform();
        bindContainer(p, 1);
        p.machine.pes[1]!.setSysRegRaw('GPTBR_EL3', p.minios.views.osL0 / 4096, 0);
        const spaces: number[] = [];
        for (const s of steps) {
          runHostStep(p, spaces, s);
          expect(p.pe.halted).toBeUndefined();
          expect(p.pe.el).toBe(1);
          leaves += checkHostInvariants(p, spaces);
        }
      }),
      { seed: 2025, numRuns: 40 },
    );
    expect(leaves).toBeGreaterThan(50); // the sequences did reach mapped states
  });
});

describe('pages a host process maps', () => {
  it('never become I/O page tables of the SMMU', () => {
    const { p, id, data } = world();
    const page = data[0]!;
    expect(hostPte(p, id, VA, hostLeaf(page))).toBe(0);
    // rc_set_iopte(stream, iova, pa, perms, poolPa, poolCount) with the mapped page as its pool.
    expect(p.call(RcCall.SetIopte, 5, 0x1000_0000, data[5]!, 3, page, 8)).toBe(RcError.EBUSY);
    expect(p.minios.ownership.kindAt(page)).toBe(Owner.Os);
  });
});
