// The mini-OS's I/O and IPC calls through the real gate (rc_set_iopte, rc_ipc_in, rc_ipc_out and the
// rcontainer extensions rc_seal_block, rc_open_block, rc_storage_attach, rc_attest): every "must
// refuse" row, round trips, tampering, replay and reorder, and shared granules checked through the
// machine's GPC. Devices are driven the way a kernel drives them (MMIO stores through its own
// page tables, DMA made by the SMMU).
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha256, verifyPlatformToken } from '../../src/firmware/attestation.js';
import { split64 } from '../../src/hw/bits.js';
import { BlockCommand, BlockReg, BlockStatus, SECTOR_BYTES } from '../../src/hw/devices/block.js';
import { leafDescriptor, PageAllocator, PageTableLayout } from '../../src/hw/layout.js';
import { SmmuBits, SmmuCmd, SmmuFault, SmmuReg } from '../../src/hw/smmu.js';
import {
  ATTEST_MAX_NONCE_BYTES,
  ATTEST_TRAILER_BYTES,
  ExecPolicy,
  IoPerm,
  IPC_FRAME_OVERHEAD,
  IPC_MAX_PAYLOAD,
  IPC_OPEN_FIN,
  ipcOutControl,
  IpcFlag,
  IpcOutOp,
  MallocKind,
  Owner,
  RcCall,
  RcError,
  SEALED_BLOCK_BYTES,
  STORAGE_BLOCK_BYTES,
} from '../../src/minios/abi.js';
import { IoPage, ioStats, ipcInRegions, isIoTableGranule, sharedMembers } from '../../src/minios/calls-io.js';
import { decodeReport, REPORT_MAX_NONCE_BYTES, verifyReport } from '../../src/minios/crypto/attestation.js';
import { ipcFrameBytes, IPC_MAX_PAYLOAD as CRYPTO_IPC_MAX_PAYLOAD } from '../../src/minios/crypto/ipc.js';
import {
  SEALED_BLOCK_BYTES as CRYPTO_SEALED_BLOCK_BYTES,
  STORAGE_BLOCK_BYTES as CRYPTO_STORAGE_BLOCK_BYTES,
  storageTreeBytes,
} from '../../src/minios/crypto/storage.js';
import { ShimPage } from '../../src/minios/containers.js';
import {
  bootTestPlatform,
  KERNEL_SCRATCH,
  openIn,
  OS_POOL,
  writeImageArguments,
  type TestPlatform,
} from './platform-helpers.js';

// ------------------------------------------------------------------ the stand-in kernel's memory map

/** OS memory the kernel uses for device structures and buffers (clear of OS_POOL and KERNEL_SCRATCH). */
const STRTAB = 0xa100_0000; // 16 STEs
const CMDQ = 0xa101_0000; // 16 commands
const IO_POOL = 0xa110_0000; // granules offered to rc_set_iopte for I/O tables
const BUF = 0xa120_0000; // DMA buffers, 4 KiB apart
const TREE = 0xa130_0000; // version trees
const FRAMES = 0xa140_0000; // sealed frames, 0x2_0000 apart
const NONCE = 0xa150_0000;
const OUT = 0xa151_0000;
const KERNEL_TABLES = 0xb000_0000; // the kernel's own TTBR0 tables
const KVA_SMMU = 0x4000_0000; // the kernel's mapping of the SMMU's register page 0
const KVA_BLOCK = 0x4001_0000; // and of the block device
const IOVA = 0x1000_0000;
const RW = IoPerm.Read | IoPerm.Write;

const digest = (text: string): Uint8Array => new Uint8Array(createHash('sha256').update(text).digest());
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const page = (seed: number): Uint8Array =>
  Uint8Array.from({ length: 4096 }, (_, i) => (seed * 31 + i * 7) & 0xff);

function boundContainer(p: TestPlatform, cid: number): void {
  expect(p.call(RcCall.CreateShim, cid)).toBe(0);
  const args = writeImageArguments(p, [digest('/bin/sh')], `{"hostname":"c${cid}"}`);
  expect(
    p.call(RcCall.CreateContainer, cid, args.list, args.config, args.configLength, ExecPolicy.MeasuredOnly),
  ).toBe(0);
}

/** Give container `cid` the OS granule at `pa` as CTR (or another kind). */
function give(p: TestPlatform, cid: number, pa: number, kind: number = MallocKind.Ctr): number {
  expect(p.call(RcCall.MallocMm, cid, pa, 1, kind)).toBe(0);
  return pa;
}

/**
 * Issue a call as the kernel serving container `cid` (under shim-GPT(cid)): a stand-in for the
 * con-shim syscall path, which puts the PE under that view; the call itself goes through the gate,
 * and EL3 tells the mini-OS which view the caller ran under.
 */
function callAs(p: TestPlatform, cid: number, call: number, ...args: number[]): number {
  const pe = p.pe;
  const view = p.minios.views.viewOf(cid)!;
  pe.setSysRegRaw('GPTBR_EL3', view / 4096, 0);
  pe.invalidateGptInfoAll();
  try {
    const result = p.call(call, ...args);
    expect(pe.regs.number('GPTBR_EL3') * 4096).toBe(view); // back in the caller's view
    return result;
  } finally {
    pe.setSysRegRaw('GPTBR_EL3', p.minios.views.osL0 / 4096, 0);
    pe.invalidateGptInfoAll();
  }
}

/** Views (0 = OS-GPT, then containers 1..n) in which a Non-secure access to `pa` passes the GPC. */
function openViews(p: TestPlatform, pa: number, containers: readonly number[]): number[] {
  return [0, ...containers].filter((viewer) => {
    const l0 = viewer === 0 ? p.minios.views.osL0 : p.minios.views.viewOf(viewer);
    return l0 !== undefined && openIn(p, l0, pa);
  });
}

// ------------------------------------------------------------------ the kernel's device driver

interface Devices {
  smmu(reg: number, value: number): void;
  smmuRead(reg: number): number;
  /** Append commands to the SMMU command queue and publish them (PROD read back from the SMMU). */
  command(...commands: readonly (readonly number[])[]): void;
  /** Point stream `stream`'s STE at the CD page `cd` (stage 1) and invalidate its configuration. */
  ste(stream: number, cd: number): void;
  /** Run a block command; returns STATUS. */
  block(command: number, sector: number, count: number, iova: number, stream: number): number;
}

/** The kernel maps the SMMU and block register pages in its TTBR0 tables and sets the SMMU up. */
function kernelDevices(p: TestPlatform): Devices {
  const memory = p.machine.memory;
  const tables = new PageTableLayout(memory, new PageAllocator(KERNEL_TABLES, 0x10_0000));
  tables.map(KVA_SMMU, p.machine.params.smmu.base, { ap: 0, pxn: true, uxn: true });
  tables.map(KVA_BLOCK, p.machine.params.block.base, { ap: 0, pxn: true, uxn: true });
  p.pe.setSysRegRaw('TTBR0_EL1', ...split64(tables.root));
  p.pe.tlbi('VMALLE1');
  const smmu = (reg: number, value: number): void => expect(p.pe.store32(KVA_SMMU + reg, value)).toBe(true);
  const smmuRead = (reg: number): number => p.pe.load32(KVA_SMMU + reg);
  const blockReg = (reg: number, value: number): void =>
    expect(p.pe.store32(KVA_BLOCK + reg, value)).toBe(true);
  smmu(SmmuReg.STRTAB_BASE, STRTAB);
  smmu(SmmuReg.STRTAB_BASE + 4, 0);
  smmu(SmmuReg.STRTAB_BASE_CFG, 4);
  smmu(SmmuReg.CMDQ_BASE, CMDQ | 4);
  smmu(SmmuReg.CMDQ_BASE + 4, 0);
  smmu(SmmuReg.CR0, SmmuBits.CR0_SMMUEN | SmmuBits.CR0_CMDQEN);
  const command = (...commands: readonly (readonly number[])[]): void => {
    let prod = smmuRead(SmmuReg.CMDQ_PROD) & 31;
    for (const words of commands) {
      for (let w = 0; w < 4; w++) memory.write32(CMDQ + 16 * (prod & 15) + 4 * w, (words[w] ?? 0) >>> 0);
      prod = (prod + 1) & 31;
    }
    smmu(SmmuReg.CMDQ_PROD, prod);
  };
  return {
    smmu,
    smmuRead,
    command,
    ste(stream, cd) {
      memory.write64(STRTAB + 64 * stream, (cd | 1 | (0b101 << 1)) >>> 0, 0);
      command([SmmuCmd.CFGI_STE, stream, 0, 0], [SmmuCmd.CMD_SYNC, 0, 0, 0]);
    },
    block(cmd, sector, count, iova, stream) {
      blockReg(BlockReg.SECTOR_LO, sector);
      blockReg(BlockReg.SECTOR_HI, 0);
      blockReg(BlockReg.COUNT, count);
      blockReg(BlockReg.DMA_LO, iova);
      blockReg(BlockReg.DMA_HI, 0);
      blockReg(BlockReg.STREAM_ID, stream);
      blockReg(BlockReg.COMMAND, cmd);
      return p.pe.load32(KVA_BLOCK + BlockReg.STATUS);
    },
  };
}

/** Map `pages` OS pages from `pa` at `iova` for `stream`, taking tables from a pool that moves on. */
function mapPages(
  p: TestPlatform,
  pool: { next: number },
  stream: number,
  iova: number,
  pa: number,
  pages: number,
  perms: number = RW,
): void {
  for (let i = 0; i < pages; i++) {
    const used = p.call(RcCall.SetIopte, stream, iova + i * 4096, pa + i * 4096, perms, pool.next, 8);
    expect(used).toBeGreaterThanOrEqual(0);
    pool.next += used * 4096;
  }
}

// ------------------------------------------------------------------ rc_set_iopte

describe('rc_set_iopte', () => {
  it('maps OS pages in mini-OS-owned PT(os) tables; a remap or unmap is invalidated through the command queue', () => {
    const p = bootTestPlatform();
    const dev = kernelDevices(p);
    const memory = p.machine.memory;
    expect(p.call(RcCall.SetIopte, 3, IOVA, BUF, RW, IO_POOL, 8)).toBe(5); // CD + L0..L3
    for (let i = 0; i < 5; i++) {
      const pa = IO_POOL + i * 4096;
      expect(p.minios.ownership.kindAt(pa)).toBe(Owner.PtOs);
      expect(isIoTableGranule(p.minios, p.minios.ownership.indexOf(pa))).toBe(true);
      expect(openIn(p, p.minios.views.osL0, pa)).toBe(true); // the SMMU walks them under the OS-GPT
    }
    expect(p.minios.ownership.kindAt(IO_POOL + 5 * 4096)).toBe(Owner.Os); // untouched
    dev.ste(3, IO_POOL); // the first granule taken is the CD page
    expect(p.machine.smmu.dmaWrite(3, IOVA + 16, text('device data')).ok).toBe(true);
    expect(memory.readBytes(BUF + 16, 11)).toEqual(text('device data'));
    // A second page in the same 2 MiB needs no new table.
    expect(p.call(RcCall.SetIopte, 3, IOVA + 4096, BUF + 4096, IoPerm.Read, IO_POOL + 5 * 4096, 8)).toBe(0);
    // Remap while the SMMU TLB holds the old translation: the mini-OS's TLBI makes DMA follow.
    const commands = p.machine.smmu.stats.commands;
    memory.writeBytes(BUF + 0x2000 + 16, text('new page'));
    expect(p.call(RcCall.SetIopte, 3, IOVA, BUF + 0x2000, RW, 0, 0)).toBe(0);
    expect(p.machine.smmu.stats.commands).toBe(commands + 2); // TLBI_NH_VA + SYNC
    expect(ioStats(p.minios).smmuInvalidations).toBe(1);
    const read = p.machine.smmu.dmaRead(3, IOVA + 16, 8);
    expect(read.ok && read.data).toEqual(text('new page'));
    // Read-only pages refuse device writes; unmapped pages fault.
    const write = p.machine.smmu.dmaWrite(3, IOVA + 4096, Uint8Array.of(1));
    expect(!write.ok && write.fault.kind).toBe(SmmuFault.Permission);
    expect(p.call(RcCall.SetIopte, 3, IOVA, 0, 0, 0, 0)).toBe(0);
    const gone = p.machine.smmu.dmaRead(3, IOVA, 4);
    expect(!gone.ok && gone.fault.kind).toBe(SmmuFault.Translation);
    expect(p.call(RcCall.SetIopte, 3, IOVA, 0, 0, 0, 0)).toBe(RcError.ENOENT);
    expect(p.call(RcCall.SetIopte, 4, IOVA, 0, 0, 0, 0)).toBe(RcError.ENOENT); // no such stream
  });

  it('refuses any target not owned by the OS, bad streams, IOVAs, perms and pools, and changes nothing', () => {
    const p = bootTestPlatform();
    kernelDevices(p);
    boundContainer(p, 1);
    boundContainer(p, 2);
    const ctr = give(p, 1, OS_POOL[0]!);
    const pt = give(p, 1, OS_POOL[1]!, MallocKind.Pt);
    const shim = p.minios.ownership.paOf(p.minios.containers.get(1)!.shim[0]!);
    const shared = give(p, 1, OS_POOL[2]!);
    const share = callAs(p, 1, RcCall.IpcOut, 1, 2, ipcOutControl(IpcOutOp.ShareOffer, 1), 0, shared);
    expect(callAs(p, 2, RcCall.IpcOut, 2, 1, ipcOutControl(IpcOutOp.ShareAccept), share)).toBe(0);
    expect(p.call(RcCall.SetIopte, 3, IOVA, BUF, RW, IO_POOL, 8)).toBe(5);
    const targets = [
      ctr,
      pt,
      shim,
      shared,
      p.minios.boot.miniRegion.base, // MINI
      p.firmware.layout.root.base, // Root
      p.minios.kernelRoot, // the kernel's own page tables (PT(os))
      IO_POOL + 4096, // the stream's own L0 table
      IO_POOL, // its CD
      p.machine.params.smmu.base, // MMIO, not DRAM
      p.machine.params.block.base,
      0x4000_0000, // nothing there
    ];
    for (const target of targets) {
      expect(p.call(RcCall.SetIopte, 3, IOVA + 0x1000, target, RW, IO_POOL + 0x5000, 8)).toBe(RcError.EPERM);
    }
    const bad: [number[], RcError][] = [
      [[3, IOVA + 8, BUF, RW, IO_POOL + 0x5000, 8], RcError.EINVAL], // unaligned IOVA
      [[3, -4096, BUF, RW, IO_POOL + 0x5000, 8], RcError.EINVAL], // TTB1 (non-canonical for the stream)
      [[3, 2 ** 48, BUF, RW, IO_POOL + 0x5000, 8], RcError.EINVAL],
      [[3, 1.5, BUF, RW, IO_POOL + 0x5000, 8], RcError.EINVAL],
      [[-1, IOVA, BUF, RW, IO_POOL + 0x5000, 8], RcError.EINVAL], // bad streams
      [[2 ** 16, IOVA, BUF, RW, IO_POOL + 0x5000, 8], RcError.EINVAL],
      [[0.5, IOVA, BUF, RW, IO_POOL + 0x5000, 8], RcError.EINVAL],
      [[3, IOVA + 0x1000, BUF + 8, RW, IO_POOL + 0x5000, 8], RcError.EINVAL], // unaligned target
      [[3, IOVA + 0x1000, BUF, IoPerm.Write, IO_POOL + 0x5000, 8], RcError.EINVAL], // write-only
      [[3, IOVA + 0x1000, BUF, 4, IO_POOL + 0x5000, 8], RcError.EINVAL],
      [[3, IOVA, BUF, 0, 0, 0], RcError.EINVAL], // unmap with a target
      [[5, IOVA, BUF, RW, IO_POOL + 0x5000, 0], RcError.EINVAL], // a new stream needs a pool
      [[5, IOVA, BUF, RW, IO_POOL + 0x5000, 9], RcError.EINVAL],
      [[5, IOVA, BUF, RW, IO_POOL + 0x5008, 8], RcError.EINVAL],
      [[5, IOVA, BUF, RW, 2 ** 52 - 4096, 8], RcError.EINVAL], // pool overflows the PA space
      [[5, IOVA, BUF, RW, IO_POOL + 0x5000, 4], RcError.ENOMEM], // 5 needed
      [[5, IOVA, BUF, RW, ctr - 0x2000, 8], RcError.EPERM], // pool runs into a container granule
      [[5, IOVA, BUF, RW, p.minios.boot.miniRegion.base, 8], RcError.EPERM],
      [[5, IOVA, IO_POOL + 0x6000, RW, IO_POOL + 0x5000, 8], RcError.EPERM], // a device reaching its own tables
    ];
    for (const [args, error] of bad) expect(p.call(RcCall.SetIopte, ...args)).toBe(error);
    for (let i = 5; i < 13; i++) expect(p.minios.ownership.kindAt(IO_POOL + i * 4096)).toBe(Owner.Os);
    expect(p.minios.ownership.kindAt(ctr - 0x2000)).toBe(Owner.Os);
    expect(ioStats(p.minios).ioMappings).toBe(1);
  });

  it('DMA into a container granule is refused by the SMMU GPC, whoever wrote the I/O page-table entry', () => {
    const p = bootTestPlatform();
    const dev = kernelDevices(p);
    const memory = p.machine.memory;
    boundContainer(p, 1);
    const victim = give(p, 1, OS_POOL[3]!);
    memory.writeBytes(victim, text('container secret'));
    expect(p.call(RcCall.SetIopte, 3, IOVA, BUF, RW, IO_POOL, 8)).toBe(5);
    dev.ste(3, IO_POOL);
    // 1. The compromised kernel writes a leaf into the mini-OS's L3 table itself (the 5th granule).
    const l3 = IO_POOL + 4 * 4096;
    const evilIova = IOVA + 0x3000;
    memory.write64(
      l3 + 8 * ((evilIova / 4096) % 512),
      ...leafDescriptor(victim, { ap: 1, uxn: true, pxn: true, notGlobal: true }),
    );
    const read = p.machine.smmu.dmaRead(3, evilIova, 16);
    expect(!read.ok && read.fault.kind).toBe(SmmuFault.Gpc);
    const write = p.machine.smmu.dmaWrite(3, evilIova, text('overwritten!!!!!'));
    expect(!write.ok && write.fault.kind).toBe(SmmuFault.Gpc);
    // 2. Its own CD and tables in OS memory, for another stream.
    const cd = KERNEL_SCRATCH + 0x10_0000;
    const tables = new PageTableLayout(memory, new PageAllocator(KERNEL_SCRATCH + 0x20_0000, 0x10_0000));
    tables.map(IOVA, victim, { ap: 1, pxn: true, uxn: true, notGlobal: true });
    memory.write64(cd, (16 | (1 << 30) | (1 << 31)) >>> 0, (5 | (1 << 9) | (1 << 13) | (9 << 16)) >>> 0);
    memory.write64(cd + 8, tables.root, 0);
    dev.ste(5, cd);
    const own = p.machine.smmu.dmaRead(5, IOVA, 16);
    expect(!own.ok && own.fault.kind).toBe(SmmuFault.Gpc);
    // 3. The block device reading a sector into it.
    p.machine.block.write32(BlockReg.IRQ_ENABLE, 0);
    expect(dev.block(BlockCommand.Read, 0, 8, IOVA, 5)).toBe(BlockStatus.DmaError);
    expect(memory.readBytes(victim, 16)).toEqual(text('container secret'));
    // 4. A page mapped while it was the OS's, then given to the container: the GPT edit's TLBI
    //    RPALOS reaches the SMMU, so its cached translation does not outlive the transfer.
    const later = OS_POOL[4]!;
    expect(p.call(RcCall.SetIopte, 3, IOVA + 0x5000, later, RW, IO_POOL + 0x5000, 8)).toBe(0);
    expect(p.machine.smmu.dmaWrite(3, IOVA + 0x5000, Uint8Array.of(1)).ok).toBe(true);
    give(p, 1, later);
    memory.writeBytes(later, text('new secret'));
    const stale = p.machine.smmu.dmaRead(3, IOVA + 0x5000, 10);
    expect(!stale.ok && stale.fault.kind).toBe(SmmuFault.Gpc);
    // The I/O tables themselves cannot be handed to a container.
    expect(p.call(RcCall.MallocMm, 1, l3, 1, MallocKind.Ctr)).toBe(RcError.EPERM);
  });

  it('refuses a change it cannot invalidate (queue disabled, or pointed at protected memory) and changes nothing', () => {
    const p = bootTestPlatform();
    const dev = kernelDevices(p);
    const memory = p.machine.memory;
    boundContainer(p, 1);
    const ctr = give(p, 1, OS_POOL[5]!);
    expect(p.call(RcCall.SetIopte, 3, IOVA, BUF, RW, IO_POOL, 8)).toBe(5);
    dev.ste(3, IO_POOL);
    memory.writeBytes(BUF, text('old'));
    expect(p.machine.smmu.dmaRead(3, IOVA, 3).ok).toBe(true); // cached in the SMMU TLB
    dev.smmu(SmmuReg.CR0, SmmuBits.CR0_SMMUEN); // the kernel turns the command queue off
    expect(p.call(RcCall.SetIopte, 3, IOVA, BUF + 0x1000, RW, 0, 0)).toBe(RcError.EBUSY);
    expect(p.call(RcCall.SetIopte, 3, IOVA, 0, 0, 0, 0)).toBe(RcError.EBUSY);
    const still = p.machine.smmu.dmaRead(3, IOVA, 3);
    expect(still.ok && still.data).toEqual(text('old'));
    // A new mapping needs no invalidation (the SMMU caches no invalid entry).
    expect(p.call(RcCall.SetIopte, 3, IOVA + 0x1000, BUF + 0x1000, RW, 0, 0)).toBe(0);
    // A queue the kernel pointed into a container granule is never written by the mini-OS.
    dev.smmu(SmmuReg.CMDQ_BASE, ctr | 4);
    dev.smmu(SmmuReg.CR0, SmmuBits.CR0_SMMUEN | SmmuBits.CR0_CMDQEN);
    const before = memory.readBytes(ctr, 64);
    expect(p.call(RcCall.SetIopte, 3, IOVA, BUF + 0x2000, RW, 0, 0)).toBe(RcError.EPERM);
    expect(memory.readBytes(ctr, 64)).toEqual(before);
    // With the SMMU disabled nothing is translated: the change needs no invalidation.
    dev.smmu(SmmuReg.CR0, 0);
    expect(p.call(RcCall.SetIopte, 3, IOVA, BUF + 0x2000, RW, 0, 0)).toBe(0);
  });
});

// ------------------------------------------------------------------ rc_ipc_in

describe('rc_ipc_in', () => {
  it('registers memory shared by two tasks of a container in SHIM(c), and refuses tasks of other containers', () => {
    const p = bootTestPlatform();
    boundContainer(p, 1);
    boundContainer(p, 2);
    const t1 = p.call(RcCall.TaskClone, 1, 0);
    const t2 = p.call(RcCall.TaskClone, 1, t1);
    const u1 = p.call(RcCall.TaskClone, 2, 0);
    p.call(RcCall.TaskClone, 2, u1);
    const u3 = p.call(RcCall.TaskClone, 2, u1); // a task id that exists only in container 2
    const mine = give(p, 1, OS_POOL[6]!);
    const theirs = give(p, 2, OS_POOL[7]!);
    const id = callAs(p, 1, RcCall.IpcIn, 1, t1, t2, mine, 1);
    expect(id).toBeGreaterThan(0);
    const record = p.minios.containers.get(1)!;
    const ioPage = p.minios.ownership.paOf(record.shim[ShimPage.io]!);
    const memory = p.machine.memory;
    expect(memory.read32(ioPage + IoPage.count)).toBe(1);
    expect(memory.read32(ioPage + IoPage.entries)).toBe(id);
    expect(memory.read32(ioPage + IoPage.entries + 4)).toBe(t1);
    expect(memory.read32(ioPage + IoPage.entries + 8)).toBe(t2);
    expect(memory.read32(ioPage + IoPage.entries + 16)).toBe(mine);
    expect(ipcInRegions(p.minios, 1, t2).map((r) => r.id)).toEqual([id]);
    // The OS context may register too (it manages c's resources, moves no data).
    expect(p.call(RcCall.IpcIn, 1, t2, t1, mine, 1)).toBeGreaterThan(id);
    expect(p.call(RcCall.IpcIn, 1, t1, u3, mine, 1)).toBe(RcError.EPERM); // a task of container 2
    expect(p.call(RcCall.IpcIn, 1, t1, t2, theirs, 1)).toBe(RcError.EPERM); // container 2's memory
    expect(p.call(RcCall.IpcIn, 1, t1, t2, OS_POOL[8]!, 1)).toBe(RcError.EPERM); // OS memory
    expect(p.call(RcCall.IpcIn, 1, t1, t2, mine, 2)).toBe(RcError.EPERM); // runs past c's memory
    expect(callAs(p, 2, RcCall.IpcIn, 1, t1, t2, mine, 1)).toBe(RcError.EPERM); // c2 speaking for c1
    expect(p.call(RcCall.IpcIn, 1, t1, t1, mine, 1)).toBe(RcError.EINVAL);
    expect(p.call(RcCall.IpcIn, 1, t1, t2, mine, 0)).toBe(RcError.EINVAL);
    expect(p.call(RcCall.IpcIn, 1, t1, t2, mine + 8, 1)).toBe(RcError.EINVAL);
    expect(p.call(RcCall.IpcIn, 1, t1, t2, 2 ** 52 - 4096, 2)).toBe(RcError.EINVAL);
    expect(p.call(RcCall.IpcIn, 7, t1, t2, mine, 1)).toBe(RcError.ENOENT);
    expect(p.call(RcCall.IpcIn, 0, t1, t2, mine, 1)).toBe(RcError.EINVAL);
    expect(p.call(RcCall.IpcIn, 1, 0, id)).toBe(0); // unregister
    expect(p.call(RcCall.IpcIn, 1, 0, id)).toBe(RcError.ENOENT);
    expect(memory.read32(ioPage + IoPage.count)).toBe(1);
    // A task that exits takes its regions with it.
    expect(p.call(RcCall.TaskExit, 1, t2)).toBe(0);
    expect(ipcInRegions(p.minios, 1, t1)).toEqual([]);
  });
});

// ------------------------------------------------------------------ rc_ipc_out: channels

/** Two bound containers with a page each and an accepted channel from 1 to 2. */
function channelFixture(): { p: TestPlatform; channel: number; src: number; dst: number } {
  const p = bootTestPlatform();
  boundContainer(p, 1);
  boundContainer(p, 2);
  boundContainer(p, 3);
  const src = give(p, 1, OS_POOL[10]!);
  const dst = give(p, 2, OS_POOL[11]!);
  const channel = callAs(p, 1, RcCall.IpcOut, 1, 2, ipcOutControl(IpcOutOp.Offer));
  expect(channel).toBeGreaterThan(0);
  expect(callAs(p, 2, RcCall.IpcOut, 2, 1, ipcOutControl(IpcOutOp.Accept), channel)).toBe(0);
  return { p, channel, src, dst };
}

function seal(
  p: TestPlatform,
  from: number,
  to: number,
  channel: number,
  src: number,
  length: number,
  frame: number,
  fin = false,
): number {
  const control = ipcOutControl(IpcOutOp.Seal, length, fin ? IpcFlag.Fin : 0);
  return from === 0
    ? p.call(RcCall.IpcOut, from, to, control, channel, src, frame)
    : callAs(p, from, RcCall.IpcOut, from, to, control, channel, src, frame);
}

function open(
  p: TestPlatform,
  from: number,
  to: number,
  channel: number,
  frame: number,
  length: number,
  dst: number,
): number {
  const control = ipcOutControl(IpcOutOp.Open, length);
  return to === 0
    ? p.call(RcCall.IpcOut, from, to, control, channel, frame, dst)
    : callAs(p, to, RcCall.IpcOut, from, to, control, channel, frame, dst);
}

describe('rc_ipc_out channels', () => {
  it('carries a message from container 1 to container 2: sealed in OS memory, plaintext only in the containers', () => {
    const { p, channel, src, dst } = channelFixture();
    const memory = p.machine.memory;
    const message = text('hello from container 1, in confidence');
    memory.writeBytes(src, message);
    const frameBytes = seal(p, 1, 2, channel, src, message.length, FRAMES);
    expect(frameBytes).toBe(message.length + IPC_FRAME_OVERHEAD);
    const frame = memory.readBytes(FRAMES, frameBytes)!;
    expect(Buffer.from(frame).includes(Buffer.from('confidence'))).toBe(false);
    expect(open(p, 1, 2, channel, FRAMES, frameBytes, dst)).toBe(message.length);
    expect(memory.readBytes(dst, message.length)).toEqual(message);
    // The destination page is container 2's: closed to the OS and to container 1.
    expect(openViews(p, dst, [1, 2, 3])).toEqual([2]);
    expect(ioStats(p.minios).framesOpened).toBe(1);
  });

  it('refuses missing consent: before the peer accepts, from the wrong context, or by a third container', () => {
    const p = bootTestPlatform();
    boundContainer(p, 1);
    boundContainer(p, 2);
    boundContainer(p, 3);
    const src = give(p, 1, OS_POOL[10]!);
    expect(p.call(RcCall.IpcOut, 1, 2, ipcOutControl(IpcOutOp.Offer))).toBe(RcError.EPERM); // OS speaking for 1
    expect(callAs(p, 2, RcCall.IpcOut, 1, 2, ipcOutControl(IpcOutOp.Offer))).toBe(RcError.EPERM);
    const channel = callAs(p, 1, RcCall.IpcOut, 1, 2, ipcOutControl(IpcOutOp.Offer));
    expect(seal(p, 1, 2, channel, src, 8, FRAMES)).toBe(RcError.EPERM); // 2 has not consented
    expect(p.call(RcCall.IpcOut, 2, 1, ipcOutControl(IpcOutOp.Accept), channel)).toBe(RcError.EPERM);
    expect(callAs(p, 3, RcCall.IpcOut, 3, 1, ipcOutControl(IpcOutOp.Accept), channel)).toBe(RcError.EPERM);
    expect(callAs(p, 1, RcCall.IpcOut, 1, 2, ipcOutControl(IpcOutOp.Accept), channel)).toBe(RcError.EPERM); // own offer
    expect(callAs(p, 2, RcCall.IpcOut, 2, 1, ipcOutControl(IpcOutOp.Accept), channel + 1)).toBe(
      RcError.ENOENT,
    );
    expect(callAs(p, 2, RcCall.IpcOut, 2, 1, ipcOutControl(IpcOutOp.Accept), channel)).toBe(0);
    expect(callAs(p, 2, RcCall.IpcOut, 2, 1, ipcOutControl(IpcOutOp.Accept), channel)).toBe(RcError.EBUSY);
    // Now sealing works, but only as container 1 with container 1's plaintext.
    expect(p.call(RcCall.IpcOut, 1, 2, ipcOutControl(IpcOutOp.Seal, 8), channel, src, FRAMES)).toBe(
      RcError.EPERM,
    );
    expect(callAs(p, 3, RcCall.IpcOut, 1, 2, ipcOutControl(IpcOutOp.Seal, 8), channel, src, FRAMES)).toBe(
      RcError.EPERM,
    );
    expect(seal(p, 3, 2, channel, give(p, 3, OS_POOL[12]!), 8, FRAMES)).toBe(RcError.EPERM); // not an end
    expect(seal(p, 1, 2, channel, give(p, 2, OS_POOL[13]!), 8, FRAMES)).toBe(RcError.EPERM); // 2's memory
    expect(seal(p, 1, 2, channel, OS_POOL[14]!, 8, FRAMES)).toBe(RcError.EPERM); // OS memory
    expect(seal(p, 1, 2, channel, src, 8, give(p, 1, OS_POOL[15]!))).toBe(RcError.EPERM); // frame into c1
    expect(seal(p, 1, 2, channel, src, IPC_MAX_PAYLOAD + 1, FRAMES)).toBe(RcError.EINVAL);
    expect(seal(p, 1, 2, channel, src, 4097, FRAMES)).toBe(RcError.EPERM); // runs past c1's page
    expect(callAs(p, 1, RcCall.IpcOut, 1, 2, ipcOutControl(IpcOutOp.Seal, 8, 2), channel, src, FRAMES)).toBe(
      RcError.EINVAL,
    );
    expect(callAs(p, 1, RcCall.IpcOut, 1, 1, ipcOutControl(IpcOutOp.Offer))).toBe(RcError.EINVAL);
    expect(callAs(p, 1, RcCall.IpcOut, 1, 9, ipcOutControl(IpcOutOp.Offer))).toBe(RcError.ENOENT);
    expect(callAs(p, 1, RcCall.IpcOut, 1, 2, 99, channel)).toBe(RcError.EINVAL);
    expect(seal(p, 1, 2, channel, src, 8, FRAMES)).toBe(8 + IPC_FRAME_OVERHEAD);
    // The OS cannot open container 2's end for it.
    expect(p.call(RcCall.IpcOut, 1, 2, ipcOutControl(IpcOutOp.Open, 56), channel, FRAMES, OS_POOL[16]!)).toBe(
      RcError.EPERM,
    );
  });

  it('refuses replay, reorder and tampering, each without changing the channel', () => {
    const { p, channel, src, dst } = channelFixture();
    const memory = p.machine.memory;
    const frames = [0, 1, 2].map((n) => {
      memory.writeBytes(src, text(`message ${n}`));
      const length = seal(p, 1, 2, channel, src, 9, FRAMES + n * 0x2_0000);
      expect(length).toBe(9 + IPC_FRAME_OVERHEAD);
      return FRAMES + n * 0x2_0000;
    });
    const length = 9 + IPC_FRAME_OVERHEAD;
    expect(open(p, 1, 2, channel, frames[1]!, length, dst)).toBe(RcError.EPROTO); // frame 0 was skipped
    expect(open(p, 1, 2, channel, frames[0]!, length, dst)).toBe(9);
    expect(memory.readBytes(dst, 9)).toEqual(text('message 0'));
    expect(open(p, 1, 2, channel, frames[0]!, length, dst)).toBe(RcError.ESTALE); // replay
    // Tampering: a ciphertext bit, a header field (sequence number), a truncated frame.
    const original = memory.readBytes(frames[1]!, length)!;
    memory.write8(frames[1]! + 40, original[40]! ^ 1);
    expect(open(p, 1, 2, channel, frames[1]!, length, dst)).toBe(RcError.EBADMSG);
    memory.writeBytes(frames[1]!, original);
    memory.write8(frames[1]! + 24, 2); // claims to be frame 2
    expect(open(p, 1, 2, channel, frames[1]!, length, dst)).toBe(RcError.EBADMSG);
    memory.writeBytes(frames[1]!, original);
    expect(open(p, 1, 2, channel, frames[1]!, length - 1, dst)).toBe(RcError.EBADMSG);
    expect(open(p, 1, 2, channel, frames[1]!, 10, dst)).toBe(RcError.EINVAL); // shorter than any frame
    // A frame played back to its sender.
    expect(open(p, 2, 1, channel, frames[1]!, length, give(p, 1, OS_POOL[17]!))).toBe(RcError.EBADMSG);
    expect(memory.readBytes(dst, 9)).toEqual(text('message 0')); // nothing delivered by a refusal
    expect(open(p, 1, 2, channel, frames[1]!, length, dst)).toBe(9);
    expect(memory.readBytes(dst, 9)).toEqual(text('message 1'));
    expect(open(p, 1, 2, channel, frames[2]!, length, dst)).toBe(9);
    expect(ioStats(p.minios).cryptoRefusals).toBeGreaterThanOrEqual(6);
  });

  it('reports FIN, refuses a closed direction, and drops the channel on close or when a container goes', () => {
    const { p, channel, src, dst } = channelFixture();
    p.machine.memory.writeBytes(src, text('bye'));
    const length = seal(p, 1, 2, channel, src, 3, FRAMES, true);
    expect(seal(p, 1, 2, channel, src, 3, FRAMES + 0x2_0000)).toBe(RcError.EPIPE);
    expect(open(p, 1, 2, channel, FRAMES, length, dst)).toBe(3 + IPC_OPEN_FIN);
    expect(open(p, 1, 2, channel, FRAMES, length, dst)).toBe(RcError.EPIPE);
    // The other direction is still open.
    expect(seal(p, 2, 1, channel, dst, 3, FRAMES + 0x4_0000)).toBe(3 + IPC_FRAME_OVERHEAD);
    expect(callAs(p, 3, RcCall.IpcOut, 3, 1, ipcOutControl(IpcOutOp.Close), channel)).toBe(RcError.EPERM);
    expect(callAs(p, 2, RcCall.IpcOut, 2, 1, ipcOutControl(IpcOutOp.Close), channel)).toBe(0);
    expect(seal(p, 2, 1, channel, dst, 3, FRAMES)).toBe(RcError.ENOENT);
    // A container that goes away takes its channels with it, scrubbed.
    const other = callAs(p, 1, RcCall.IpcOut, 1, 3, ipcOutControl(IpcOutOp.Offer));
    expect(callAs(p, 3, RcCall.IpcOut, 3, 1, ipcOutControl(IpcOutOp.Accept), other)).toBe(0);
    expect(p.call(RcCall.DestroyContainer, 3)).toBe(0);
    expect(p.call(RcCall.DestroyShim, 3)).toBe(0);
    expect(seal(p, 1, 3, other, src, 3, FRAMES)).toBe(RcError.ENOENT);
    boundContainer(p, 3); // the same id again: a new container, no channel
    expect(seal(p, 1, 3, other, src, 3, FRAMES)).toBe(RcError.ENOENT);
  });

  it('joins a container and the host: the host opens only what the container chose to send', () => {
    const p = bootTestPlatform();
    boundContainer(p, 1);
    const page1 = give(p, 1, OS_POOL[20]!);
    const memory = p.machine.memory;
    const channel = callAs(p, 1, RcCall.IpcOut, 1, 0, ipcOutControl(IpcOutOp.Offer));
    expect(callAs(p, 1, RcCall.IpcOut, 0, 1, ipcOutControl(IpcOutOp.Accept), channel)).toBe(RcError.EPERM);
    expect(p.call(RcCall.IpcOut, 0, 1, ipcOutControl(IpcOutOp.Accept), channel)).toBe(0);
    memory.writeBytes(page1, text('reply to host'));
    const length = seal(p, 1, 0, channel, page1, 13, FRAMES);
    expect(open(p, 1, 0, channel, FRAMES, length, BUF)).toBe(13);
    expect(memory.readBytes(BUF, 13)).toEqual(text('reply to host'));
    memory.writeBytes(BUF + 0x1000, text('request'));
    const request = seal(p, 0, 1, channel, BUF + 0x1000, 7, FRAMES + 0x2_0000);
    expect(open(p, 0, 1, channel, FRAMES + 0x2_0000, request, page1 + 100)).toBe(7);
    expect(memory.readBytes(page1 + 100, 7)).toEqual(text('request'));
    // The host cannot seal container memory, nor open into it.
    expect(seal(p, 0, 1, channel, page1, 7, FRAMES)).toBe(RcError.EPERM);
    expect(open(p, 1, 0, channel, FRAMES, length, page1)).toBe(RcError.EPERM);
  });
});

// ------------------------------------------------------------------ rc_ipc_out: shared memory

describe('rc_ipc_out shared memory', () => {
  it('a granule is Shared only after both consents: open in both views, closed to the OS and the others', () => {
    const p = bootTestPlatform();
    for (const cid of [1, 2, 3]) boundContainer(p, cid);
    const granule = give(p, 1, OS_POOL[40]!); // second GiB: container 2 owns nothing there
    give(p, 1, OS_POOL[41]!);
    const tables = p.minios.views.bytes;
    expect(p.call(RcCall.IpcOut, 1, 2, ipcOutControl(IpcOutOp.ShareOffer, 1), 0, granule)).toBe(
      RcError.EPERM,
    );
    const share = callAs(p, 1, RcCall.IpcOut, 1, 2, ipcOutControl(IpcOutOp.ShareOffer, 1), 0, granule);
    expect(share).toBeGreaterThan(0);
    expect(openViews(p, granule, [1, 2, 3])).toEqual([1]); // one consent is not enough
    expect(p.call(RcCall.IpcOut, 2, 1, ipcOutControl(IpcOutOp.ShareAccept), share)).toBe(RcError.EPERM);
    expect(callAs(p, 3, RcCall.IpcOut, 3, 1, ipcOutControl(IpcOutOp.ShareAccept), share)).toBe(RcError.EPERM);
    expect(callAs(p, 3, RcCall.IpcOut, 2, 1, ipcOutControl(IpcOutOp.ShareAccept), share)).toBe(RcError.EPERM);
    expect(callAs(p, 2, RcCall.IpcOut, 2, 1, ipcOutControl(IpcOutOp.ShareAccept), share)).toBe(0);
    expect(p.minios.ownership.kindAt(granule)).toBe(Owner.Shared);
    expect(openViews(p, granule, [1, 2, 3])).toEqual([1, 2]);
    expect(openViews(p, OS_POOL[41]!, [1, 2, 3])).toEqual([1]); // its neighbour is still c1's alone
    expect(sharedMembers(p.minios, granule)).toEqual([1, 2]);
    expect(p.minios.views.bytes).toBeGreaterThan(tables); // container 2's private L1 for that GiB
    expect(callAs(p, 2, RcCall.IpcOut, 2, 1, ipcOutControl(IpcOutOp.ShareAccept), share)).toBe(RcError.EBUSY);
    // Either member ends it; the granule goes back to container 1 and container 2's table goes.
    expect(callAs(p, 3, RcCall.IpcOut, 3, 1, ipcOutControl(IpcOutOp.Unshare), share)).toBe(RcError.EPERM);
    expect(callAs(p, 2, RcCall.IpcOut, 2, 1, ipcOutControl(IpcOutOp.Unshare), share)).toBe(0);
    expect(p.minios.ownership.kindAt(granule)).toBe(Owner.Ctr);
    expect(openViews(p, granule, [1, 2, 3])).toEqual([1]);
    expect(p.minios.views.bytes).toBe(tables);
    expect(callAs(p, 2, RcCall.IpcOut, 2, 1, ipcOutControl(IpcOutOp.Unshare), share)).toBe(RcError.ENOENT);
  });

  it("refuses offers of memory that is not the offerer's, to the host, to itself, or twice", () => {
    const p = bootTestPlatform();
    for (const cid of [1, 2]) boundContainer(p, cid);
    const mine = give(p, 1, OS_POOL[0]!);
    const theirs = give(p, 2, OS_POOL[1]!);
    const pt = give(p, 1, OS_POOL[2]!, MallocKind.Pt);
    const shim = p.minios.ownership.paOf(p.minios.containers.get(1)!.shim[0]!);
    const offer = (to: number, pa: number, count = 1): number =>
      callAs(p, 1, RcCall.IpcOut, 1, to, ipcOutControl(IpcOutOp.ShareOffer, count), 0, pa);
    expect(offer(2, theirs)).toBe(RcError.EPERM);
    expect(offer(2, pt)).toBe(RcError.EPERM);
    expect(offer(2, shim)).toBe(RcError.EPERM);
    expect(offer(2, OS_POOL[3]!)).toBe(RcError.EPERM);
    expect(offer(2, mine, 2)).toBe(RcError.EPERM); // runs into container 2's granule
    expect(offer(0, mine)).toBe(RcError.EINVAL);
    expect(offer(1, mine)).toBe(RcError.EINVAL);
    expect(offer(5, mine)).toBe(RcError.ENOENT);
    expect(offer(2, mine, 0)).toBe(RcError.EINVAL);
    expect(offer(2, mine + 8)).toBe(RcError.EINVAL);
    expect(offer(2, mine)).toBeGreaterThan(0);
    expect(offer(2, mine)).toBe(RcError.EPERM); // already offered
    expect(openViews(p, mine, [1, 2])).toEqual([1]);
  });

  it('ends with the containers: the peer going returns the granule, the owner going scrubs it', () => {
    const p = bootTestPlatform();
    for (const cid of [1, 2]) boundContainer(p, cid);
    const granule = give(p, 1, OS_POOL[42]!);
    const share = callAs(p, 1, RcCall.IpcOut, 1, 2, ipcOutControl(IpcOutOp.ShareOffer, 1), 0, granule);
    expect(callAs(p, 2, RcCall.IpcOut, 2, 1, ipcOutControl(IpcOutOp.ShareAccept), share)).toBe(0);
    expect(p.call(RcCall.DestroyContainer, 2)).toBe(0);
    expect(p.call(RcCall.DestroyShim, 2)).toBe(0);
    expect(p.minios.ownership.kindAt(granule)).toBe(Owner.Ctr);
    expect(openViews(p, granule, [1])).toEqual([1]);
    boundContainer(p, 2); // a new container 2 does not inherit the share
    expect(openViews(p, granule, [1, 2])).toEqual([1]);
    const again = callAs(p, 1, RcCall.IpcOut, 1, 2, ipcOutControl(IpcOutOp.ShareOffer, 1), 0, granule);
    expect(callAs(p, 2, RcCall.IpcOut, 2, 1, ipcOutControl(IpcOutOp.ShareAccept), again)).toBe(0);
    p.machine.memory.writeBytes(granule, text('shared secret'));
    expect(p.call(RcCall.DestroyContainer, 1)).toBe(0);
    expect(p.minios.ownership.kindAt(granule)).toBe(Owner.Os);
    expect(p.machine.memory.readBytes(granule, 13)).toEqual(new Uint8Array(13));
    expect(openViews(p, granule, [1, 2])).toEqual([0, 1, 2]);
    expect(sharedMembers(p.minios, granule)).toEqual([]);
  });

  it('random share, accept, unshare and forged calls keep every view equal to the ownership rule', () => {
    type Op = {
      op: 'offer' | 'accept' | 'unshare';
      actor: number;
      other: number;
      granule: number;
      id: number;
      forge: boolean;
    };
    const op: fc.Arbitrary<Op> = fc.record({
      op: fc.constantFrom('offer' as const, 'accept' as const, 'unshare' as const),
      actor: fc.integer({ min: 1, max: 3 }),
      other: fc.integer({ min: 0, max: 3 }),
      granule: fc.integer({ min: 0, max: 3 }),
      id: fc.integer({ min: 1, max: 6 }),
      forge: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 14 }), (ops) => {
        const p = bootTestPlatform();
        for (const cid of [1, 2, 3]) boundContainer(p, cid);
        const granules = [
          give(p, 1, OS_POOL[0]!),
          give(p, 1, OS_POOL[40]!),
          give(p, 2, OS_POOL[41]!),
          give(p, 3, OS_POOL[1]!),
        ];
        for (const o of ops) {
          const control = ipcOutControl(
            o.op === 'offer'
              ? IpcOutOp.ShareOffer
              : o.op === 'accept'
                ? IpcOutOp.ShareAccept
                : IpcOutOp.Unshare,
            o.op === 'offer' ? 1 : 0,
          );
          const args = [o.actor, o.other, control, o.id, granules[o.granule]!];
          // A forged call speaks for the actor from the OS context or another container's.
          const result = o.forge
            ? p.call(RcCall.IpcOut, ...args)
            : callAs(p, o.actor, RcCall.IpcOut, ...args);
          if (o.forge) expect(result).toBeLessThan(0);
          expect(p.pe.halted).toBeUndefined();
        }
        for (const pa of granules) {
          const kind = p.minios.ownership.kindAt(pa)!;
          const expected =
            kind === Owner.Shared
              ? [...sharedMembers(p.minios, pa)].sort()
              : kind === Owner.Ctr
                ? [p.minios.ownership.containerAt(pa)]
                : [];
          expect(expected.length).toBeGreaterThan(0);
          expect(openViews(p, pa, [1, 2, 3])).toEqual(expected);
        }
      }),
      { seed: 4242, numRuns: 25 },
    );
  });
});

// ------------------------------------------------------------------ sealed storage

/** A container with a disk of 16 blocks, a plaintext page and a second page for reading back. */
function storageFixture(): { p: TestPlatform; dev: Devices; plain: number; back: number } {
  const p = bootTestPlatform();
  const dev = kernelDevices(p);
  boundContainer(p, 1);
  boundContainer(p, 2);
  const plain = give(p, 1, OS_POOL[24]!);
  const back = give(p, 1, OS_POOL[25]!);
  expect(p.call(RcCall.StorageAttach, 1, 16, TREE)).toBe(0);
  return { p, dev, plain, back };
}

const RECORD_SECTORS = Math.ceil(SEALED_BLOCK_BYTES / SECTOR_BYTES);

describe('sealed storage (rc_seal_block, rc_open_block, rc_storage_attach)', () => {
  it("refuses the mini-OS's own con-shim pages (records, contexts, window table) as the plaintext page", () => {
    const { p, plain } = storageFixture();
    const record = p.minios.containers.get(1)!;
    const own = p.minios.ownership;
    expect(callAs(p, 1, RcCall.SealBlock, 1, 3, plain, BUF)).toBe(1);
    for (const page of [ShimPage.record, ShimPage.firstContext, ShimPage.windowTable]) {
      const pa = own.paOf(record.shim[page]!);
      const before = p.machine.memory.readBytes(pa, 4096)!;
      // Decrypting a block into c's window table would let the kernel forge c's window mappings.
      expect(callAs(p, 1, RcCall.OpenBlock, 1, 3, BUF, pa)).toBe(RcError.EPERM);
      expect(callAs(p, 1, RcCall.SealBlock, 1, 4, pa, BUF + 0x2000)).toBe(RcError.EPERM);
      expect(p.machine.memory.readBytes(pa, 4096)).toEqual(before);
    }
    // A SHIM page the kernel gave for its data is accepted.
    const data = p.call(RcCall.MallocMm, 1, OS_POOL[26]!, 1, MallocKind.Shim);
    expect(data).toBeGreaterThan(0);
    expect(callAs(p, 1, RcCall.OpenBlock, 1, 3, BUF, OS_POOL[26]!)).toBe(1);
  });

  it('round-trips a container block through the block device by DMA, sealed on the disk', () => {
    const { p, dev, plain, back } = storageFixture();
    const memory = p.machine.memory;
    const data = page(7);
    memory.writeBytes(plain, data);
    expect(callAs(p, 1, RcCall.SealBlock, 1, 3, plain, BUF)).toBe(1); // version 1
    const record = memory.readBytes(BUF, SEALED_BLOCK_BYTES)!;
    expect(Buffer.from(record).includes(Buffer.from(data.subarray(100, 132)))).toBe(false);
    // The kernel writes the record to the disk and reads it back by DMA through its stream.
    const pool = { next: IO_POOL };
    mapPages(p, pool, 7, IOVA, BUF, 2);
    dev.ste(7, IO_POOL);
    expect(dev.block(BlockCommand.Write, 3 * RECORD_SECTORS, RECORD_SECTORS, IOVA, 7)).toBe(BlockStatus.Done);
    memory.fill(BUF, 8192, 0);
    expect(dev.block(BlockCommand.Read, 3 * RECORD_SECTORS, RECORD_SECTORS, IOVA, 7)).toBe(BlockStatus.Done);
    expect(callAs(p, 1, RcCall.OpenBlock, 1, 3, BUF, back)).toBe(1);
    expect(memory.readBytes(back, 4096)).toEqual(data);
    expect(ioStats(p.minios).blocksSealed).toBe(1);
  });

  it("refuses tampering, rollback, relocation, a corrupted version tree and another container's record", () => {
    const { p, plain, back } = storageFixture();
    const memory = p.machine.memory;
    memory.writeBytes(plain, page(1));
    expect(callAs(p, 1, RcCall.SealBlock, 1, 3, plain, BUF)).toBe(1);
    const v1 = memory.readBytes(BUF, SEALED_BLOCK_BYTES)!;
    memory.writeBytes(plain, page(2));
    expect(callAs(p, 1, RcCall.SealBlock, 1, 3, plain, BUF + 0x2000)).toBe(2);
    expect(callAs(p, 1, RcCall.SealBlock, 1, 4, plain, BUF + 0x4000)).toBe(1);
    memory.writeBytes(back, page(9));
    const openInto = (block: number, src: number): number =>
      callAs(p, 1, RcCall.OpenBlock, 1, block, src, back);
    expect(openInto(3, BUF)).toBe(RcError.ESTALE); // rollback to version 1
    expect(openInto(4, BUF + 0x2000)).toBe(RcError.EBADMSG); // block 3's record as block 4
    expect(openInto(5, BUF + 0x2000)).toBe(RcError.ENOENT); // never written
    const v2 = memory.readBytes(BUF + 0x2000, SEALED_BLOCK_BYTES)!;
    for (const at of [77, 4096 + 16, SEALED_BLOCK_BYTES - 1]) {
      // A ciphertext bit, the block number in the header, the tag.
      memory.write8(BUF + 0x2000 + at, v2[at]! ^ 0x80);
      expect(openInto(3, BUF + 0x2000)).toBe(RcError.EBADMSG);
      memory.write8(BUF + 0x2000 + at, v2[at]!);
    }
    expect(memory.readBytes(back, 4096)).toEqual(page(9)); // nothing written by a refusal
    expect(openInto(3, BUF + 0x2000)).toBe(2);
    expect(memory.readBytes(back, 4096)).toEqual(page(2));
    expect(v1.length).toBe(SEALED_BLOCK_BYTES);
    memory.writeBytes(plain, page(3));
    expect(callAs(p, 1, RcCall.SealBlock, 1, 3, plain, BUF + 0x6000)).toBe(3);
    expect(openInto(3, BUF + 0x6000)).toBe(3);
    expect(memory.readBytes(back, 4096)).toEqual(page(3));
    // The kernel edits the version tree in its memory (to make version 1 current again).
    const tree = memory.readBytes(TREE, storageTreeBytes(16))!;
    memory.write32(TREE + 12, 1); // block 3's version slot
    expect(openInto(3, BUF)).toBe(RcError.EBADMSG);
    expect(openInto(3, BUF + 0x6000)).toBe(RcError.EBADMSG);
    memory.writeBytes(TREE, tree);
    expect(openInto(3, BUF + 0x6000)).toBe(3);
    // Container 2 has its own key: container 1's record is not its block.
    expect(p.call(RcCall.StorageAttach, 2, 16, TREE + 0x1000)).toBe(0);
    const page2 = give(p, 2, OS_POOL[26]!);
    expect(callAs(p, 2, RcCall.SealBlock, 2, 3, page2, BUF + 0x8000)).toBe(1);
    expect(callAs(p, 2, RcCall.OpenBlock, 2, 3, BUF + 0x6000, page2)).toBe(RcError.EBADMSG);
  });

  it('refuses callers other than the container, plaintext outside it, records outside OS memory, bad blocks and disks', () => {
    const { p, plain, back } = storageFixture();
    const theirs = give(p, 2, OS_POOL[27]!);
    const ioRecord = p.minios.ownership.paOf(p.minios.containers.get(1)!.shim[1]!);
    const shim = OS_POOL[29]!;
    expect(p.call(RcCall.MallocMm, 1, shim, 1, MallocKind.Shim)).toBeGreaterThan(0);
    expect(p.call(RcCall.SealBlock, 1, 0, plain, BUF)).toBe(RcError.EPERM); // from the OS context
    expect(callAs(p, 2, RcCall.SealBlock, 1, 0, plain, BUF)).toBe(RcError.EPERM); // as container 2
    expect(callAs(p, 1, RcCall.SealBlock, 1, 0, theirs, BUF)).toBe(RcError.EPERM);
    expect(callAs(p, 1, RcCall.SealBlock, 1, 0, BUF + 0x4000, BUF)).toBe(RcError.EPERM); // OS plaintext
    expect(callAs(p, 1, RcCall.SealBlock, 1, 0, plain, back)).toBe(RcError.EPERM); // record into c1
    expect(callAs(p, 1, RcCall.SealBlock, 1, 0, plain, OS_POOL[25]! - 16)).toBe(RcError.EPERM); // runs into c1
    expect(callAs(p, 1, RcCall.SealBlock, 1, 0, plain + 8, BUF)).toBe(RcError.EINVAL);
    expect(callAs(p, 1, RcCall.SealBlock, 1, 16, plain, BUF)).toBe(RcError.EINVAL);
    expect(callAs(p, 1, RcCall.SealBlock, 1, -1, plain, BUF)).toBe(RcError.EINVAL);
    expect(callAs(p, 1, RcCall.SealBlock, 1, 0, ioRecord, BUF)).toBe(RcError.EPERM); // the con-shim's own page
    expect(callAs(p, 1, RcCall.SealBlock, 1, 0, shim, BUF)).toBe(1); // SHIM(c) page cache is c's too
    expect(callAs(p, 1, RcCall.OpenBlock, 1, 0, BUF, shim)).toBe(1);
    expect(callAs(p, 1, RcCall.OpenBlock, 1, 0, BUF, theirs)).toBe(RcError.EPERM);
    expect(callAs(p, 1, RcCall.OpenBlock, 1, 0, plain, back)).toBe(RcError.EPERM); // record from c1
    expect(p.call(RcCall.OpenBlock, 1, 0, BUF, back)).toBe(RcError.EPERM);
    expect(callAs(p, 2, RcCall.SealBlock, 2, 0, theirs, BUF)).toBe(RcError.ENOENT); // no disk
    expect(p.call(RcCall.SealBlock, 9, 0, plain, BUF)).toBe(RcError.ENOENT);
    // Attach: once, with a sane size, its tree in OS memory.
    expect(p.call(RcCall.StorageAttach, 1, 16, TREE + 0x1000)).toBe(RcError.EBUSY);
    expect(p.call(RcCall.StorageAttach, 2, 2 ** 24 + 1, TREE + 0x1000)).toBe(RcError.EINVAL);
    expect(p.call(RcCall.StorageAttach, 2, 16, TREE + 8)).toBe(RcError.EINVAL);
    expect(p.call(RcCall.StorageAttach, 2, 16, theirs)).toBe(RcError.EPERM);
    expect(p.call(RcCall.StorageAttach, 2, 16, p.minios.boot.miniRegion.base)).toBe(RcError.EPERM);
    expect(p.call(RcCall.StorageAttach, 9, 16, TREE + 0x1000)).toBe(RcError.ENOENT);
    expect(p.call(RcCall.StorageAttach, 2, 0, 0)).toBe(RcError.ENOENT);
    // The tree given to a container later: the mini-OS stops using it rather than write c's memory.
    expect(p.call(RcCall.StorageAttach, 2, 16, OS_POOL[28]!)).toBe(0);
    give(p, 2, OS_POOL[28]!);
    expect(callAs(p, 2, RcCall.SealBlock, 2, 0, theirs, BUF)).toBe(RcError.EPERM);
    expect(p.call(RcCall.StorageAttach, 1, 0, 0)).toBe(0); // detach
    expect(callAs(p, 1, RcCall.SealBlock, 1, 0, plain, BUF)).toBe(RcError.ENOENT);
  });
});

// ------------------------------------------------------------------ rc_attest

describe('rc_attest', () => {
  it('produces evidence a verifier checks with the platform public key, the platform token and its nonce', () => {
    const p = bootTestPlatform();
    boundContainer(p, 1);
    const memory = p.machine.memory;
    const nonce = digest('verifier nonce');
    memory.writeBytes(NONCE, nonce);
    const length = p.call(RcCall.Attest, 1, NONCE, 32, OUT, 4096);
    expect(length).toBeGreaterThan(ATTEST_TRAILER_BYTES);
    const evidence = memory.readBytes(OUT, length)!;
    const reportBytes = evidence.subarray(0, length - ATTEST_TRAILER_BYTES);
    const miniosKey = evidence.subarray(length - ATTEST_TRAILER_BYTES, length - 64);
    const token = evidence.subarray(length - 64);
    const verified = verifyReport(reportBytes, miniosKey, nonce);
    expect(verified.ok).toBe(true);
    if (!verified.ok) return;
    const record = p.minios.containers.get(1)!;
    expect(verified.report.imageDigest).toEqual(record.imageDigest);
    expect(verified.report.configDigest).toEqual(record.configDigest);
    expect(verified.report.execPolicy).toBe(ExecPolicy.MeasuredOnly);
    expect(verified.report.measurements.map((m) => m.component)).toEqual(
      p.firmware.bootInfo.log.map((e) => e.component),
    );
    // The platform key (the verifier's root of trust) endorses the mini-OS key for this boot chain,
    // which the verifier recomputes from the measurements in the report.
    let chain: Uint8Array = new Uint8Array(32);
    for (const m of verified.report.measurements) chain = sha256(chain, m.sha256);
    expect(verifyPlatformToken(p.firmware.bootInfo.platformPublicKey, chain, miniosKey, token)).toBe(true);
    // A stale or altered report is refused.
    const other = verifyReport(reportBytes, miniosKey, digest('another nonce'));
    expect(!other.ok && other.error.kind).toBe('WrongNonce');
    const altered = reportBytes.slice();
    altered[60] = altered[60]! ^ 1; // the image digest
    const forged = verifyReport(altered, miniosKey, nonce);
    expect(!forged.ok && forged.error.kind).toBe('BadSignature');
    expect(decodeReport(reportBytes).ok).toBe(true);
    expect(ioStats(p.minios).reports).toBe(1);
  });

  it('refuses unknown or unbound containers, bad nonces, small or protected output buffers', () => {
    const p = bootTestPlatform();
    boundContainer(p, 1);
    expect(p.call(RcCall.CreateShim, 2)).toBe(0);
    const ctr = give(p, 1, OS_POOL[30]!);
    p.machine.memory.writeBytes(NONCE, digest('n'));
    expect(p.call(RcCall.Attest, 9, NONCE, 32, OUT, 4096)).toBe(RcError.ENOENT);
    expect(p.call(RcCall.Attest, 2, NONCE, 32, OUT, 4096)).toBe(RcError.ENOENT); // shim only, not bound
    expect(p.call(RcCall.Attest, 0, NONCE, 32, OUT, 4096)).toBe(RcError.EINVAL);
    expect(p.call(RcCall.Attest, 1, NONCE, 0, OUT, 4096)).toBe(RcError.EINVAL);
    expect(p.call(RcCall.Attest, 1, NONCE, ATTEST_MAX_NONCE_BYTES + 1, OUT, 4096)).toBe(RcError.EINVAL);
    expect(p.call(RcCall.Attest, 1, ctr, 32, OUT, 4096)).toBe(RcError.EPERM);
    expect(p.call(RcCall.Attest, 1, p.minios.boot.miniRegion.base, 32, OUT, 4096)).toBe(RcError.EPERM);
    expect(p.call(RcCall.Attest, 1, NONCE, 32, OUT, 100)).toBe(RcError.ENOSPC);
    expect(p.call(RcCall.Attest, 1, NONCE, 32, ctr, 4096)).toBe(RcError.EPERM);
    expect(p.call(RcCall.Attest, 1, NONCE, 32, p.firmware.layout.root.base, 4096)).toBe(RcError.EPERM);
    expect(callAs(p, 1, RcCall.Attest, 1, NONCE, 32, OUT, 4096)).toBeGreaterThan(0); // from c's context too
  });
});

// ------------------------------------------------------------------ ABI and robustness

describe('I/O ABI', () => {
  it("documents sizes equal to the crypto libraries'", () => {
    expect(SEALED_BLOCK_BYTES).toBe(CRYPTO_SEALED_BLOCK_BYTES);
    expect(STORAGE_BLOCK_BYTES).toBe(CRYPTO_STORAGE_BLOCK_BYTES);
    expect(IPC_FRAME_OVERHEAD).toBe(ipcFrameBytes(0));
    expect(IPC_MAX_PAYLOAD).toBe(CRYPTO_IPC_MAX_PAYLOAD);
    expect(ATTEST_MAX_NONCE_BYTES).toBe(REPORT_MAX_NONCE_BYTES);
  });

  it('forged I/O calls with wild arguments from any context never open a protected granule', () => {
    const wild = fc.oneof(
      fc.integer({ min: -5, max: 70_000 }),
      fc.constantFrom(
        0,
        1,
        3,
        IOVA,
        BUF,
        IO_POOL,
        OS_POOL[0]!,
        OS_POOL[40]!,
        0x8000_0000,
        2 ** 48,
        2 ** 52 - 4096,
        -(2 ** 47),
        1.5,
      ),
    );
    const call = fc.record({
      number: fc.constantFrom(
        RcCall.SetIopte,
        RcCall.IpcIn,
        RcCall.IpcOut,
        RcCall.SealBlock,
        RcCall.OpenBlock,
        RcCall.StorageAttach,
        RcCall.Attest,
      ),
      context: fc.integer({ min: 0, max: 2 }),
      args: fc.array(wild, { maxLength: 6 }),
    });
    fc.assert(
      fc.property(fc.array(call, { minLength: 1, maxLength: 12 }), (calls) => {
        const p = bootTestPlatform();
        kernelDevices(p);
        boundContainer(p, 1);
        boundContainer(p, 2);
        give(p, 1, OS_POOL[0]!);
        give(p, 2, OS_POOL[40]!);
        for (const c of calls) {
          const result =
            c.context === 0 ? p.call(c.number, ...c.args) : callAs(p, c.context, c.number, ...c.args);
          expect(Number.isSafeInteger(result)).toBe(true);
          expect(p.pe.halted).toBeUndefined();
        }
        for (const pa of [
          OS_POOL[0]!,
          OS_POOL[40]!,
          p.minios.boot.miniRegion.base,
          p.firmware.layout.root.base,
        ]) {
          const kind = p.minios.ownership.kindAt(pa)!;
          const open = openViews(p, pa, [1, 2]);
          if (kind === Owner.Ctr) expect(open).toEqual([p.minios.ownership.containerAt(pa)]);
          else if (kind === Owner.Shared) expect(open).toEqual([...sharedMembers(p.minios, pa)].sort());
          else expect(open).toEqual([]);
        }
      }),
      { seed: 1717, numRuns: 30 },
    );
  });
});
