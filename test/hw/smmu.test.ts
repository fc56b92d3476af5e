/**
 * SMMU unit tests: DMA through bypass and stage-1 streams reaches the right bytes of simulated
 * memory; the SMMU's GPC refuses granules that are not Non-secure in its GPT; stale SMMU TLB
 * entries survive a GPT edit until a broadcast TLBI PA* from EL3; SMMU-side invalidation commands,
 * configuration faults and the event queue.
 */
import { describe, expect, it } from 'vitest';
import { GpcFault, gpcFaultKind, gpcFaultLevel } from '../../src/hw/gpc.js';
import { Machine } from '../../src/hw/machine.js';
import type { PhysicalMemory } from '../../src/hw/memory.js';
import { Gpi } from '../../src/hw/pas.js';
import {
  describeSmmuFault,
  Smmu,
  SmmuBits,
  SmmuCmd,
  SmmuEvent,
  SmmuFault,
  SmmuFaultSource,
  SmmuReg,
} from '../../src/hw/smmu.js';

// ------------------------------------------------------------------ memory map of the fixture

const DRAM = 0x8000_0000; // default machine DRAM: 1 GiB at 2 GiB
/** GPT: PPS = 4 GB, PGS = 4 KB, L0GPTSZ = 1 GB; L0 at GPT_L0, one L1 table for [2 GiB, 3 GiB). */
const GPT_L0 = 0xbff0_0000;
const GPT_L1 = 0xbfe0_0000; // 128 KiB, aligned to its size
const L1_BYTES = 0x2_0000;
/** GPCCR_EL3: PPS 0 (4 GB), IRGN = ORGN = WB (01), SH = Inner (11), PGS 4 KB, L0GPTSZ 1 GB, GPC. */
const GPCCR = 0x1_3500;
const STRTAB = 0x8010_0000;
const CMDQ = 0x8011_0000;
const EVENTQ = 0x8012_0000;
const CD = 0x8013_0000;
const PT_POOL = 0x8014_0000;
const BUF = 0x8050_0000;

const BYPASS_SID = 1;
const S1_SID = 2;
const ABORT_SID = 3;
const ASID = 5;
const IOVA = 0x1000_0000;

interface Fixture {
  readonly machine: Machine;
  readonly memory: PhysicalMemory;
  readonly smmu: Smmu;
  /** Map a 4 KiB page in the stage-1 stream's tables (AP[2:1] = `ap`: 1 EL0 RW, 3 EL0 RO). */
  map(iova: number, pa: number, ap?: number): number;
  /** Set the GPI of the granule at `pa` in the (shared) GPT. */
  setGpi(pa: number, gpi: number): void;
  /** Append commands (16-byte [w0, w1, w2, w3]) to the command queue and publish them. */
  command(...commands: readonly (readonly number[])[]): void;
}

function bytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (seed + i * 7) & 0xff;
  return out;
}

/** A machine whose PE and SMMU share one GPT (everything Non-secure), with three streams set up. */
function makeFixture(): Fixture {
  const machine = new Machine({});
  const memory = machine.memory;
  const smmu = machine.smmu;

  // GPT in memory: L0 entries 0, 1, 3 are Block NS (0x91); entry 2 points to an all-NS L1 table.
  for (const i of [0, 1, 3]) memory.write64(GPT_L0 + 8 * i, 0x91, 0);
  memory.write64(GPT_L0 + 16, (GPT_L1 | 0b11) >>> 0, 0);
  memory.fill(GPT_L1, L1_BYTES, 0x99); // every L1 word 0x9999999999999999
  const setGpi = (pa: number, gpi: number): void => {
    const offset = pa - DRAM;
    const wordPa = GPT_L1 + 8 * Math.floor(offset / 0x1_0000);
    const nibble = Math.floor(offset / 4096) % 16;
    const half = wordPa + (nibble < 8 ? 0 : 4);
    const shift = 4 * (nibble % 8);
    memory.write32(half, ((memory.read32(half) & ~(0xf << shift)) | (gpi << shift)) >>> 0);
  };

  // The PE (at EL3 after reset) uses the same GPT.
  const pe = machine.pes[0]!;
  pe.setSysRegRaw('GPTBR_EL3', GPT_L0 / 4096, 0);
  pe.setSysRegRaw('GPCCR_EL3', GPCCR, 0);

  // Root firmware: S_INIT.INV_ALL, GPT_BASE_CFG = GPCCR_EL3 (GPC is RES0 there), GPT_BASE = L0 PA,
  // then GPCEN and ACCESSEN (TF-A smmu_v3.c order).
  smmu.write32(SmmuReg.S_INIT, SmmuBits.S_INIT_INV_ALL);
  smmu.write64(SmmuReg.ROOT_GPT_BASE_CFG, GPCCR);
  smmu.write64(SmmuReg.ROOT_GPT_BASE, GPT_L0);
  smmu.write32(SmmuReg.ROOT_CR0, SmmuBits.ROOT_CR0_GPCEN);
  smmu.write32(SmmuReg.ROOT_CR0, SmmuBits.ROOT_CR0_GPCEN | SmmuBits.ROOT_CR0_ACCESSEN);

  // Non-secure driver: stream table (16 STEs), command and event queues (16 entries each).
  smmu.write64(SmmuReg.STRTAB_BASE, STRTAB);
  smmu.write32(SmmuReg.STRTAB_BASE_CFG, 4);
  smmu.write64(SmmuReg.CMDQ_BASE, CMDQ + 4);
  smmu.write64(SmmuReg.EVENTQ_BASE, EVENTQ + 4);
  memory.write64(STRTAB + 64 * BYPASS_SID, 0x1 | (0b100 << 1), 0); // V, Config = bypass
  memory.write64(STRTAB + 64 * S1_SID, (CD | 0x1 | (0b101 << 1)) >>> 0, 0); // V, stage 1, S1ContextPtr
  memory.write64(STRTAB + 64 * ABORT_SID, 0x1, 0); // V, Config = abort
  // CD: T0SZ 16, TG0 4 KB, EPD1, V, IPS 48 bits, AA64, R, ASID.
  let nextTable = PT_POOL;
  const newTable = (): number => {
    const pa = nextTable;
    nextTable += 4096;
    memory.fill(pa, 4096, 0);
    return pa;
  };
  const root = newTable();
  memory.write64(CD, (16 | (1 << 30) | (1 << 31)) >>> 0, (5 | (1 << 9) | (1 << 13) | (ASID << 16)) >>> 0);
  memory.write64(CD + 8, root, 0);
  smmu.write32(SmmuReg.CR0, SmmuBits.CR0_SMMUEN | SmmuBits.CR0_CMDQEN | SmmuBits.CR0_EVENTQEN);

  const map = (iova: number, pa: number, ap = 1): number => {
    let table = root;
    for (let level = 0; level < 3; level++) {
      const at = table + 8 * (Math.floor(iova / 2 ** (39 - 9 * level)) % 512);
      const low = memory.read32(at);
      if ((low & 3) === 3) {
        table = (low & 0xffff_f000) >>> 0;
      } else {
        const next = newTable();
        memory.write64(at, (next | 3) >>> 0, 0);
        table = next;
      }
    }
    const leaf = table + 8 * (Math.floor(iova / 4096) % 512);
    // Page, AP[2:1], SH inner, AF, nG.
    memory.write64(leaf, (pa | 0b11 | (ap << 6) | (0b11 << 8) | (1 << 10) | (1 << 11)) >>> 0, 0);
    return leaf;
  };

  let prod = 0;
  const command = (...commands: readonly (readonly number[])[]): void => {
    for (const words of commands) {
      const slot = CMDQ + 16 * (prod % 16);
      words.forEach((w, i) => memory.write32(slot + 4 * i, w >>> 0));
      for (let i = words.length; i < 4; i++) memory.write32(slot + 4 * i, 0);
      prod = (prod + 1) % 32; // index with wrap bit (LOG2SIZE 4)
    }
    smmu.write32(SmmuReg.CMDQ_PROD, prod);
  };

  return { machine, memory, smmu, map, setGpi, command };
}

describe('SMMU DMA', () => {
  it('bypass stream: IOVA = PA, across a page boundary', () => {
    const { memory, smmu } = makeFixture();
    const data = bytes(200, 3);
    const at = BUF + 4096 - 100;
    expect(smmu.dmaWrite(BYPASS_SID, at, data)).toEqual({ ok: true });
    expect(memory.readBytes(at, 200)).toEqual(data);
    const back = smmu.dmaRead(BYPASS_SID, at, 200);
    expect(back.ok && back.data).toEqual(data);
    expect(smmu.stats.dmaWrites).toBe(1);
    expect(smmu.stats.dmaReads).toBe(1);
    expect(smmu.stats.bytesWritten).toBe(200);
    // Two pages missed on the write; the read hit both.
    expect(smmu.stats.tlbMisses).toBe(2);
    expect(smmu.stats.tlbHits).toBe(2);
  });

  it('stage-1 stream: each page goes where the stream’s tables map it', () => {
    const { memory, smmu, map } = makeFixture();
    map(IOVA, 0x8040_0000);
    map(IOVA + 0x1000, 0x8060_0000); // not contiguous with the first page
    const data = bytes(0x1000, 11);
    expect(smmu.dmaWrite(S1_SID, IOVA + 0x800, data)).toEqual({ ok: true });
    expect(memory.readBytes(0x8040_0800, 0x800)).toEqual(data.subarray(0, 0x800));
    expect(memory.readBytes(0x8060_0000, 0x800)).toEqual(data.subarray(0x800));
    // Nothing went to the PAs that equal the IOVA's offsets in a flat view.
    expect(memory.readBytes(0x8040_1000, 16)).toEqual(new Uint8Array(16));
    const back = smmu.dmaRead(S1_SID, IOVA + 0x800, 0x1000);
    expect(back.ok && back.data).toEqual(data);
    expect(smmu.stats.walkReads).toBe(8); // two 4-level walks; the read hit the TLB
    expect(smmu.stats.tlbHits).toBe(2);
  });

  it('an unmapped IOVA is a translation fault, recorded and reported in the event queue', () => {
    const { memory, smmu, map } = makeFixture();
    map(IOVA, 0x8040_0000);
    const result = smmu.dmaWrite(S1_SID, IOVA + 0xff0, bytes(0x20, 1));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.bytesDone).toBe(0x10); // the first page was written, then the transfer stopped
    expect(result.fault).toMatchObject({
      streamId: S1_SID,
      iova: IOVA + 0x1000,
      kind: SmmuFault.Translation,
      level: 3,
    });
    expect(memory.readBytes(0x8040_0ff0, 0x10)).toEqual(bytes(0x20, 1).subarray(0, 0x10));
    // Event record: F_TRANSLATION, StreamID, RnW = 0 (write), InputAddr.
    expect(memory.read32(EVENTQ)).toBe(SmmuEvent.F_TRANSLATION);
    expect(memory.read32(EVENTQ + 4)).toBe(S1_SID);
    expect((memory.read32(EVENTQ + 12) >>> 3) & 1).toBe(0);
    expect(memory.read32(EVENTQ + 16)).toBe(IOVA + 0x1000);
    expect(smmu.read32(SmmuReg.EVENTQ_PROD)).toBe(1);
    expect(smmu.stats.faults).toBe(1);
  });

  it('a write through a read-only mapping is a permission fault', () => {
    const { memory, smmu, map } = makeFixture();
    map(IOVA, 0x8040_0000, 3); // EL0 read-only
    expect(smmu.dmaRead(S1_SID, IOVA, 16).ok).toBe(true);
    const result = smmu.dmaWrite(S1_SID, IOVA, bytes(16, 9));
    expect(!result.ok && result.fault.kind).toBe(SmmuFault.Permission);
    expect(memory.readBytes(0x8040_0000, 16)).toEqual(new Uint8Array(16));
  });

  it('ACCESSEN = 0 terminates every transaction; GBPA decides while SMMUEN = 0', () => {
    const { smmu } = makeFixture();
    smmu.write32(SmmuReg.ROOT_CR0, SmmuBits.ROOT_CR0_GPCEN);
    const blocked = smmu.dmaRead(BYPASS_SID, BUF, 4);
    expect(!blocked.ok && blocked.fault.kind).toBe(SmmuFault.Terminated);
    smmu.write32(SmmuReg.ROOT_CR0, SmmuBits.ROOT_CR0_GPCEN | SmmuBits.ROOT_CR0_ACCESSEN);
    smmu.write32(SmmuReg.CR0, 0);
    const aborted = smmu.dmaRead(S1_SID, BUF, 4);
    expect(!aborted.ok && aborted.fault.kind).toBe(SmmuFault.Terminated); // GBPA.ABORT at reset
    smmu.write32(SmmuReg.GBPA, SmmuBits.GBPA_UPDATE);
    expect(smmu.read32(SmmuReg.GBPA)).toBe(0);
    expect(smmu.dmaRead(S1_SID, BUF, 4).ok).toBe(true); // global bypass
  });

  it('STE.Config = abort terminates silently; a StreamID beyond the table is C_BAD_STREAMID', () => {
    const { memory, smmu } = makeFixture();
    const aborted = smmu.dmaRead(ABORT_SID, BUF, 4);
    expect(!aborted.ok && aborted.fault.kind).toBe(SmmuFault.Terminated);
    const bad = smmu.dmaRead(16, BUF, 4);
    expect(!bad.ok && bad.fault.kind).toBe(SmmuFault.BadStreamId);
    const invalid = smmu.dmaRead(7, BUF, 4); // STE.V = 0
    expect(!invalid.ok && invalid.fault.kind).toBe(SmmuFault.BadSte);
    expect(memory.read32(EVENTQ)).toBe(SmmuEvent.C_BAD_STREAMID);
    expect(memory.read32(EVENTQ + 32)).toBe(SmmuEvent.C_BAD_STE);
    expect(memory.read32(EVENTQ + 36)).toBe(7);
  });
});

describe('SMMU granule protection check', () => {
  for (const [name, gpi] of [
    ['Root', Gpi.Root],
    ['NO_ACCESS', Gpi.NoAccess],
  ] as const) {
    it(`a DMA write to a ${name} granule is refused with a GPF recorded and no byte written`, () => {
      const { memory, smmu, setGpi, map } = makeFixture();
      const closed = 0x8070_0000;
      setGpi(closed, gpi);
      const result = smmu.dmaWrite(BYPASS_SID, closed + 0x10, bytes(64, 5));
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.bytesDone).toBe(0);
      const fault = result.fault;
      expect(fault.kind).toBe(SmmuFault.Gpc);
      expect(fault.source).toBe(SmmuFaultSource.Transaction);
      expect(fault.pa).toBe(closed + 0x10);
      expect(gpcFaultKind(fault.gpc)).toBe(GpcFault.GPF);
      expect(gpcFaultLevel(fault.gpc)).toBe(1);
      expect(memory.readBytes(closed, 4096)).toEqual(new Uint8Array(4096));
      expect(smmu.stats.gpcFaults).toBe(1);
      expect(describeSmmuFault(fault)).toContain('GPF at GPT level 1');
      // SMMU_ROOT_GPF_FAR: PA [51:12], GPCSC (GPF, level 1) in [5:0], NS in bit 63.
      expect(smmu.read32(SmmuReg.ROOT_GPF_FAR)).toBe((closed | 0b001101) >>> 0);
      expect(smmu.read32(SmmuReg.ROOT_GPF_FAR + 4) >>> 31).toBe(1);
      // No Non-secure event for a GPF on the transaction itself.
      expect(smmu.read32(SmmuReg.EVENTQ_PROD)).toBe(0);

      // The same granule reached through a stage-1 mapping is refused too.
      map(IOVA, closed);
      const viaS1 = smmu.dmaRead(S1_SID, IOVA, 8);
      expect(!viaS1.ok && viaS1.fault.kind).toBe(SmmuFault.Gpc);
      expect(memory.readBytes(closed, 4096)).toEqual(new Uint8Array(4096));
    });
  }

  it('a transfer stops at the first closed granule: earlier pages written, nothing after', () => {
    const { memory, smmu, setGpi } = makeFixture();
    setGpi(BUF + 0x1000, Gpi.Realm);
    const data = bytes(0x3000, 2);
    const result = smmu.dmaWrite(BYPASS_SID, BUF, data);
    expect(!result.ok && result.bytesDone).toBe(0x1000);
    expect(memory.readBytes(BUF, 0x1000)).toEqual(data.subarray(0, 0x1000));
    expect(memory.readBytes(BUF + 0x1000, 0x2000)).toEqual(new Uint8Array(0x2000));
  });

  it('page-table pages in a closed granule fault the walk (GPC on SMMU-originated fetches)', () => {
    const { memory, smmu, setGpi, map } = makeFixture();
    map(IOVA, 0x8040_0000);
    setGpi(PT_POOL, Gpi.Root); // the stream's level-0 table
    const result = smmu.dmaRead(S1_SID, IOVA, 4);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.fault).toMatchObject({ kind: SmmuFault.Gpc, source: SmmuFaultSource.TableWalk, level: 0 });
    expect(memory.read32(EVENTQ)).toBe(SmmuEvent.F_WALK_EABT);
  });

  it('a stream table in a closed granule faults the STE fetch', () => {
    const { memory, smmu, setGpi } = makeFixture();
    setGpi(STRTAB, Gpi.NoAccess);
    const result = smmu.dmaRead(BYPASS_SID, BUF, 4);
    expect(!result.ok && result.fault).toMatchObject({
      kind: SmmuFault.Gpc,
      source: SmmuFaultSource.Ste,
      pa: STRTAB + 64,
    });
    expect(memory.read32(EVENTQ)).toBe(SmmuEvent.F_STE_FETCH);
  });

  it('GPCEN = 0: no check', () => {
    const { smmu, setGpi } = makeFixture();
    setGpi(BUF, Gpi.Root);
    smmu.write32(SmmuReg.ROOT_CR0, SmmuBits.ROOT_CR0_ACCESSEN);
    expect(smmu.dmaWrite(BYPASS_SID, BUF, bytes(8, 0)).ok).toBe(true);
    expect(smmu.read64(SmmuReg.ROOT_GPT_BASE_CFG)).toBe(GPCCR & ~(1 << 16)); // GPC is RES0
  });
});

describe('SMMU TLB maintenance', () => {
  it('a stale SMMU TLB entry survives a GPT edit until TLBI RPALOS from EL3', () => {
    const { machine, memory, smmu, setGpi } = makeFixture();
    const pe = machine.pes[0]!;
    expect(pe.el).toBe(3);
    expect(smmu.dmaWrite(BYPASS_SID, BUF, bytes(8, 1)).ok).toBe(true); // fills the TLB
    setGpi(BUF, Gpi.Root); // close the granule in the GPT ...
    // ... but the SMMU still holds the translation with its GPC outcome: the DMA gets through.
    expect(smmu.dmaWrite(BYPASS_SID, BUF, bytes(8, 2)).ok).toBe(true);
    expect(memory.readBytes(BUF, 8)).toEqual(bytes(8, 2));
    // TLBI RPALOS for the granule (SIZE 0 = 4 KB, BaseADDR = PA >> 12), broadcast by the machine.
    expect(pe.tlbi('RPALOS', BUF / 4096)).toBe(true);
    expect(smmu.stats.tlbiRpa).toBe(1);
    const after = smmu.dmaWrite(BYPASS_SID, BUF, bytes(8, 3));
    expect(!after.ok && after.fault.kind).toBe(SmmuFault.Gpc);
    expect(memory.readBytes(BUF, 8)).toEqual(bytes(8, 2));
  });

  it('TLBI RPALOS for another range leaves the entry; TLBI PAALLOS removes it', () => {
    const { machine, smmu, setGpi, map } = makeFixture();
    const pe = machine.pes[0]!;
    map(IOVA, BUF);
    expect(smmu.dmaRead(S1_SID, IOVA, 8).ok).toBe(true);
    setGpi(BUF, Gpi.NoAccess);
    pe.tlbi('RPALOS', (BUF + 0x10_0000) / 4096);
    expect(smmu.dmaRead(S1_SID, IOVA, 8).ok).toBe(true); // still stale
    pe.tlbi('PAALLOS');
    expect(smmu.stats.tlbiPaall).toBe(1);
    const after = smmu.dmaRead(S1_SID, IOVA, 8);
    expect(!after.ok && after.fault.kind).toBe(SmmuFault.Gpc);
  });

  it('TLBI PAALL is local to the PE: it does not reach the SMMU', () => {
    const { machine, smmu, setGpi } = makeFixture();
    expect(smmu.dmaRead(BYPASS_SID, BUF, 8).ok).toBe(true);
    setGpi(BUF, Gpi.Root);
    machine.pes[0]!.tlbi('PAALL');
    expect(smmu.dmaRead(BYPASS_SID, BUF, 8).ok).toBe(true);
  });

  it('SMMU_ROOT_TLBI (range) and SMMU_S_INIT.INV_ALL invalidate GPT information', () => {
    const { smmu, setGpi } = makeFixture();
    expect(smmu.dmaRead(BYPASS_SID, BUF, 8).ok).toBe(true);
    setGpi(BUF, Gpi.Root);
    smmu.write64(SmmuReg.ROOT_TLBI, BUF / 4096);
    smmu.write32(SmmuReg.ROOT_TLBI_CTRL, SmmuBits.ROOT_TLBI_CTRL_RUN);
    expect(smmu.dmaRead(BYPASS_SID, BUF, 8).ok).toBe(false);
    setGpi(BUF, Gpi.NonSecure);
    expect(smmu.dmaRead(BYPASS_SID, BUF + 0x2000, 8).ok).toBe(true);
    setGpi(BUF + 0x2000, Gpi.Root);
    smmu.write32(SmmuReg.S_INIT, SmmuBits.S_INIT_INV_ALL);
    expect(smmu.dmaRead(BYPASS_SID, BUF + 0x2000, 8).ok).toBe(false);
  });

  it('a PTE edit is invisible until CMD_TLBI_NH_VA; CMD_TLBI_NH_ASID drops the whole ASID', () => {
    const { memory, smmu, map, command } = makeFixture();
    map(IOVA, 0x8040_0000);
    map(IOVA + 0x1000, 0x8040_1000);
    expect(smmu.dmaRead(S1_SID, IOVA, 4).ok).toBe(true);
    expect(smmu.dmaRead(S1_SID, IOVA + 0x1000, 4).ok).toBe(true);
    map(IOVA, 0x8060_0000);
    map(IOVA + 0x1000, 0x8060_1000);
    smmu.dmaWrite(S1_SID, IOVA, bytes(4, 1));
    expect(memory.readBytes(0x8040_0000, 4)).toEqual(bytes(4, 1)); // stale translation used
    command([SmmuCmd.TLBI_NH_VA, ASID << 16, IOVA, 0], [SmmuCmd.CMD_SYNC]);
    expect(smmu.read32(SmmuReg.CMDQ_CONS)).toBe(2);
    smmu.dmaWrite(S1_SID, IOVA, bytes(4, 2));
    expect(memory.readBytes(0x8060_0000, 4)).toEqual(bytes(4, 2));
    smmu.dmaWrite(S1_SID, IOVA + 0x1000, bytes(4, 3));
    expect(memory.readBytes(0x8040_1000, 4)).toEqual(bytes(4, 3)); // the other page still stale
    command([SmmuCmd.TLBI_NH_ASID, ASID << 16], [SmmuCmd.CMD_SYNC]);
    smmu.dmaWrite(S1_SID, IOVA + 0x1000, bytes(4, 4));
    expect(memory.readBytes(0x8060_1000, 4)).toEqual(bytes(4, 4));
    expect(smmu.stats.commands).toBe(4);
  });

  it('an STE edit takes effect at CMD_CFGI_STE', () => {
    const { memory, smmu, command } = makeFixture();
    expect(smmu.dmaRead(BYPASS_SID, BUF, 4).ok).toBe(true);
    memory.write64(STRTAB + 64 * BYPASS_SID, 0x1, 0); // now Config = abort
    expect(smmu.dmaRead(BYPASS_SID, BUF, 4).ok).toBe(true); // cached configuration
    command([SmmuCmd.CFGI_STE, 0, BYPASS_SID, 0]);
    expect(smmu.dmaRead(BYPASS_SID, BUF, 4).ok).toBe(true); // wrong StreamID word: w1 holds it
    command([SmmuCmd.CFGI_STE, BYPASS_SID]);
    const result = smmu.dmaRead(BYPASS_SID, BUF, 4);
    expect(!result.ok && result.fault.kind).toBe(SmmuFault.Terminated);
  });

  it('an illegal command stops consumption with CERROR_ILL until GERRORN acknowledges it', () => {
    const { memory, smmu, command } = makeFixture();
    command([0x7f], [SmmuCmd.CMD_SYNC]);
    expect(smmu.read32(SmmuReg.CMDQ_CONS)).toBe((1 << 24) | 0); // ERR = CERROR_ILL, RD on the command
    expect(smmu.read32(SmmuReg.GERROR) & SmmuBits.GERROR_CMDQ_ERR).toBe(1);
    expect(smmu.stats.commandErrors).toBe(1);
    // The driver replaces the bad command with a CMD_SYNC and acknowledges the error.
    memory.write32(CMDQ, SmmuCmd.CMD_SYNC);
    smmu.write32(SmmuReg.GERRORN, smmu.read32(SmmuReg.GERROR));
    expect(smmu.read32(SmmuReg.CMDQ_CONS)).toBe(2);
  });
});

describe('SMMU statistics and parameters', () => {
  it('stands alone over any PhysicalMemory and rejects bad parameters and transfers', () => {
    const machine = new Machine({});
    expect(() => new Smmu({ tlbEntries: 3 }, machine.memory)).toThrow(/power of two/);
    expect(() => new Smmu({ gptInfoEntries: 3 }, machine.memory)).toThrow(/power of two/);
    const smmu = new Smmu({}, machine.memory);
    expect(() => smmu.dmaRead(-1, 0, 4)).toThrow(RangeError);
    expect(() => smmu.dmaRead(0, 0.5, 4)).toThrow(RangeError);
    // Reset state: ACCESSEN = 0, so everything is terminated.
    const result = smmu.dmaRead(0, DRAM, 4);
    expect(!result.ok && result.fault.kind).toBe(SmmuFault.Terminated);
    expect(smmu.faultLog()).toHaveLength(1);
    smmu.clearFaultLog();
    expect(smmu.faultLog()).toHaveLength(0);
    expect(smmu.read32(SmmuReg.ROOT_IDR0) & 1).toBe(1);
    expect(smmu.read32(0x1234)).toBe(-1);
    expect(smmu.write32(0x1234, 0)).toBe(false);
  });
});
