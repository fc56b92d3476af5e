/**
 * The System MMU: a reduced SMMUv3 with the RME granule protection check (spec/cca-hardware.md §6).
 *
 * Every DMA a device makes goes through {@link Smmu.dmaRead} / {@link Smmu.dmaWrite}, page by page:
 * SMMU_ROOT_CR0.ACCESSEN → stream table entry (STE) → stage-1 translation through the context
 * descriptor (CD), or bypass → GPC check of the output address against the GPT the SMMU was given in
 * SMMU_ROOT_GPT_BASE / SMMU_ROOT_GPT_BASE_CFG. The SMMU's own fetches (STE, CD, translation-table
 * descriptors, command-queue entries, event-queue records) are GPC-checked too: "all clients and
 * SMMU-originated accesses, except GPT walks, are subject to GPC" (TF-A smmu_v3.c L132-151).
 * Stream table, CDs, queues and page tables are bytes in simulated physical memory.
 *
 * Software programs the SMMU through one MMIO window ({@link SmmuReg}): SMMUv3 page 0 (+0x0),
 * the Secure register page in page 0 (+0x8000, only SMMU_S_INIT), page 1 (+0x10000, event-queue
 * indices) and the RME Root register page (+0x20000). The window itself cannot see the PAS of an
 * access, so firmware protects the pages the architecture's way: the granule at +0x20000 is given
 * GPI Root and the one at +0x8000 GPI Secure (or NO_ACCESS) in every GPT.
 *
 * Reduced STE (64 bytes, linear stream table, SMMUv3 field positions; other fields ignored):
 *   dword0: V [0], Config [3:1] (0b000 abort, 0b100 bypass, 0b101 stage 1; anything else C_BAD_STE),
 *           S1ContextPtr [51:6]
 *   dword1: STRW [31:30] (must be 0b00, NS-EL1), PRIVCFG [49:48] (0b11 privileged, else unprivileged)
 * Reduced CD (64 bytes, SMMUv3 field positions; other fields ignored):
 *   dword0: T0SZ [5:0], TG0 [7:6], EPD0 [14], ENDI [15] (must be 0), T1SZ [21:16], TG1 [23:22],
 *           EPD1 [30], V [31], IPS [34:32], WXN [36], AA64 [41] (must be 1), HA [43], R [45],
 *           ASID [63:48]
 *   dword1: TTB0 [51:4]        dword2: TTB1 [51:4]
 * The CD is turned into TCR_EL1/TTBR0_EL1/TTBR1_EL1/SCTLR_EL1 values and decoded by
 * regime.ts `decodeEl10`, so a stream translates exactly as a PE's EL1&0 regime would.
 *
 * SIMPLIFICATION: no stage 2, no substreams (IDR1.SSIDSIZE = 0), no 2-level stream table, no stall
 * model, no ATS/PRI, no MSIs; a fault terminates the transaction. Client transactions are data
 * accesses, unprivileged unless STE.PRIVCFG = 0b11.
 * SIMPLIFICATION: every transaction (and every SMMU-originated fetch) is made in the Non-secure PAS
 * by a Non-secure requester. How the PAS of a DMA is derived (STE/CD/NS attributes) is
 * [UNCONFIRMED] in spec/cca-hardware.md §6 and §9 item 8; RContainer only needs Non-secure DMA.
 */
import { z } from 'zod';
import { assert } from './bits.js';
import { gpcStatusCode } from './exceptions.js';
import {
  GPC_FAULT_NAMES,
  GPC_OK,
  GranuleProtectionCheck,
  gpcFaultKind,
  gpcFaultLevel,
  GpcFault,
  type GpcResult,
} from './gpc.js';
import {
  EXTERNAL_ABORT,
  FRAME_BYTES,
  MMIO_FRAME,
  NO_FRAME,
  type MmioHandler,
  type PhysicalMemory,
} from './memory.js';
import { Access, MmuFault, neededPerm, Stage1Walker, TranslationResult } from './mmu.js';
import { Pas, PAS_NAMES } from './pas.js';
import { decodeEl10, type Regime } from './regime.js';
import { GLOBAL_ASID, Tlb } from './tlb.js';

// ---------------------------------------------------------------- parameters

/** Schema of the SMMU parameters, with documented defaults. */
export const smmuParamsSchema = z.object({
  /** Output address size in bits (SMMU_IDR5.OAS); the machine passes its PARange. */
  paRangeBits: z.number().int().min(32).max(52).default(48),
  /** SMMU TLB entries (power of two). */
  tlbEntries: z
    .number()
    .int()
    .min(1)
    .max(1 << 16)
    .default(256),
  /** Entries of the SMMU GPC unit's GPT-information cache (power of two). */
  gptInfoEntries: z
    .number()
    .int()
    .min(1)
    .max(1 << 20)
    .default(1024)
    .refine((n) => (n & (n - 1)) === 0, 'must be a power of two'),
  /** StreamID width in bits (SMMU_IDR1.SIDSIZE). */
  streamIdBits: z.number().int().min(1).max(32).default(16),
  /** Fault records kept by {@link Smmu.faultLog} (oldest dropped first). */
  faultLogEntries: z
    .number()
    .int()
    .min(1)
    .max(1 << 16)
    .default(256),
  /** Optional extension (as for the PEs): TLB entries tagged with the GPT base they were filled under. */
  gptTaggedTlb: z.boolean().default(false),
});
/** SMMU parameters as a caller gives them. */
export type SmmuParamsInput = z.input<typeof smmuParamsSchema>;
/** SMMU parameters after validation. */
export type SmmuParams = z.output<typeof smmuParamsSchema>;

// ---------------------------------------------------------------- registers

/** Byte offsets of the registers in the SMMU's MMIO window. 64-bit registers are two words. */
export const SmmuReg = {
  IDR0: 0x0000,
  IDR1: 0x0004,
  IDR3: 0x000c,
  IDR5: 0x0014,
  IIDR: 0x0018,
  AIDR: 0x001c,
  CR0: 0x0020,
  CR0ACK: 0x0024,
  CR1: 0x0028,
  CR2: 0x002c,
  GBPA: 0x0044,
  IRQ_CTRL: 0x0050,
  IRQ_CTRLACK: 0x0054,
  GERROR: 0x0060,
  GERRORN: 0x0064,
  STRTAB_BASE: 0x0080,
  STRTAB_BASE_CFG: 0x0088,
  CMDQ_BASE: 0x0090,
  CMDQ_PROD: 0x0098,
  CMDQ_CONS: 0x009c,
  EVENTQ_BASE: 0x00a0,
  /** Secure page: SMMU_S_INIT (INV_ALL bit 0), as TF-A uses it (smmu_v3.h SMMU_S_INIT 0x803c). */
  S_INIT: 0x803c,
  /** Page 1. */
  EVENTQ_PROD: 0x100a8,
  EVENTQ_CONS: 0x100ac,
  /** Root page (TF-A smmu_v3.h: SMMU_ROOT_PAGE_OFFSET + ...). */
  ROOT_IDR0: 0x20000,
  ROOT_IIDR: 0x20008,
  ROOT_CR0: 0x20020,
  ROOT_CR0ACK: 0x20024,
  ROOT_GPT_BASE: 0x20028,
  ROOT_GPT_BASE_CFG: 0x20030,
  ROOT_GPF_FAR: 0x20038,
  ROOT_GPT_CFG_FAR: 0x20040,
  ROOT_TLBI: 0x20050,
  ROOT_TLBI_CTRL: 0x20058,
} as const;

/** Size of the SMMU's MMIO window (pages 0 and 1, then the 4 KiB Root page). */
export const SMMU_WINDOW_BYTES = 0x21000;

/** Register bits software needs. */
export const SmmuBits = {
  CR0_SMMUEN: 1 << 0,
  CR0_EVENTQEN: 1 << 2,
  CR0_CMDQEN: 1 << 3,
  GBPA_ABORT: 1 << 20,
  GBPA_UPDATE: 1 << 31,
  IRQ_CTRL_GERROR_IRQEN: 1 << 0,
  IRQ_CTRL_EVENTQ_IRQEN: 1 << 2,
  GERROR_CMDQ_ERR: 1 << 0,
  GERROR_EVENTQ_ABT_ERR: 1 << 2,
  S_INIT_INV_ALL: 1 << 0,
  /** SMMU_ROOT_CR0.ACCESSEN: 0 terminates every transaction (TF-A smmu_v3.h). */
  ROOT_CR0_ACCESSEN: 1 << 0,
  /** SMMU_ROOT_CR0.GPCEN: the GPC applies to all accesses but GPT walks. */
  ROOT_CR0_GPCEN: 1 << 1,
  ROOT_TLBI_CTRL_RUN: 1 << 0,
  ROOT_TLBI_CTRL_ALL: 1 << 1,
  /** Queue PROD: overflow flag. */
  Q_OVERFLOW: 1 << 31,
} as const;

/** SMMUv3 command opcodes the model executes (CMDQ_0_OP [7:0]); any other is CERROR_ILL. */
export const SmmuCmd = {
  PREFETCH_CONFIG: 0x01,
  CFGI_STE: 0x03,
  /** CFGI_STE_RANGE; Range = 31 is what drivers call CFGI_ALL. */
  CFGI_STE_RANGE: 0x04,
  CFGI_CD: 0x05,
  CFGI_CD_ALL: 0x06,
  TLBI_NH_ALL: 0x10,
  TLBI_NH_ASID: 0x11,
  TLBI_NH_VA: 0x12,
  TLBI_NH_VAA: 0x13,
  TLBI_NSNH_ALL: 0x30,
  CMD_SYNC: 0x46,
} as const;

/** SMMUv3 event record IDs the model writes to the event queue. */
export const SmmuEvent = {
  None: 0x00,
  C_BAD_STREAMID: 0x02,
  F_STE_FETCH: 0x03,
  C_BAD_STE: 0x04,
  F_CD_FETCH: 0x09,
  C_BAD_CD: 0x0a,
  F_WALK_EABT: 0x0b,
  F_TRANSLATION: 0x10,
  F_ADDR_SIZE: 0x11,
  F_ACCESS: 0x12,
  F_PERMISSION: 0x13,
} as const;

const CERROR_ILL = 1;
const CERROR_ABT = 2;
const CMDQ_MAX_LOG2 = 19; // SMMU_IDR1.CMDQS
const EVENTQ_MAX_LOG2 = 19; // SMMU_IDR1.EVENTQS
const STE_BYTES = 64;
const CMD_BYTES = 16;
const EVENT_BYTES = 32;
const GPCCR_GPC = 1 << 16;
/** IDR0: S1P [1], TTF = AArch64 [3:2], COHACC [4], ASID16 [12], TTENDIAN = LE [22:21]; ST_LVL = linear. */
const IDR0_VALUE = ((1 << 1) | (2 << 2) | (1 << 4) | (1 << 12) | (2 << 21)) >>> 0;
/** IDR5: GRAN4K [4] only; OAS [2:0] from the output size. */
const OAS_ENCODING: Readonly<Record<number, number>> = { 32: 0, 36: 1, 40: 2, 42: 3, 44: 4, 48: 5, 52: 6 };
/** RPA*-format SIZE field [47:44] → bytes (the same table the PE decodes). */
const RPA_SIZES = [12, 14, 16, 21, 25, 29, 30, 34, 36, 39].map((b) => 2 ** b);

/** TLB regime tags of the SMMU TLB: stage-1 Non-secure entries and bypass (GPT information only). */
const REGIME_S1 = 0;
const REGIME_BYPASS = 1;

// ---------------------------------------------------------------- faults and results

/** Kinds of SMMU fault on a client transaction. */
export const SmmuFault = {
  /** Terminated without a record: ROOT_CR0.ACCESSEN = 0, GBPA.ABORT with SMMUEN = 0, or STE.Config = abort. */
  Terminated: 1,
  /** StreamID outside the stream table (C_BAD_STREAMID). */
  BadStreamId: 2,
  /** STE fetch aborted (F_STE_FETCH). */
  SteFetch: 3,
  /** STE invalid or unsupported (C_BAD_STE). */
  BadSte: 4,
  /** CD fetch aborted (F_CD_FETCH). */
  CdFetch: 5,
  /** CD invalid or unsupported (C_BAD_CD). */
  BadCd: 6,
  Translation: 7,
  AddressSize: 8,
  AccessFlag: 9,
  Permission: 10,
  /** External abort on a translation-table fetch (F_WALK_EABT). */
  WalkExternalAbort: 11,
  /** A granule protection check failed; `source` says on which access, `gpc` how. */
  Gpc: 12,
  /** The output PA is outside DRAM (no memory there, or a device window). */
  ExternalAbort: 13,
} as const;
/** An SMMU fault kind. */
export type SmmuFault = (typeof SmmuFault)[keyof typeof SmmuFault];
/** Names of SMMU fault kinds, indexed by kind. */
export const SMMU_FAULT_NAMES = [
  '',
  'Terminated',
  'BadStreamId',
  'SteFetch',
  'BadSte',
  'CdFetch',
  'BadCd',
  'Translation',
  'AddressSize',
  'AccessFlag',
  'Permission',
  'WalkExternalAbort',
  'Gpc',
  'ExternalAbort',
] as const;

/** Which access of a transaction faulted. */
export const SmmuFaultSource = { Transaction: 0, Ste: 1, Cd: 2, TableWalk: 3 } as const;
/** A fault source. */
export type SmmuFaultSource = (typeof SmmuFaultSource)[keyof typeof SmmuFaultSource];
/** Names of fault sources, indexed by source. */
export const SMMU_FAULT_SOURCE_NAMES = ['transaction', 'STE', 'CD', 'table walk'] as const;

/** One recorded fault of a client transaction. */
export interface SmmuFaultRecord {
  readonly streamId: number;
  /** Input address of the page that faulted (the model's VA number form: negative = TTB1 range). */
  readonly iova: number;
  readonly write: boolean;
  readonly kind: SmmuFault;
  readonly source: SmmuFaultSource;
  /** Translation level for translation-class faults and GPC faults on a walk, else 0. */
  readonly level: number;
  /** PA of the failing access: the output address, or the STE/CD/descriptor address; undefined if none. */
  readonly pa: number | undefined;
  readonly pas: Pas;
  /** GPC outcome (gpc.ts encoding) for kind Gpc, else GPC_OK. */
  readonly gpc: GpcResult;
  /** SMMUv3 event ID written to the event queue for this fault (SmmuEvent.None if none). */
  readonly event: number;
}

/** Outcome of {@link Smmu.dmaRead}. */
export type DmaReadResult =
  | { readonly ok: true; readonly data: Uint8Array }
  | { readonly ok: false; readonly fault: SmmuFaultRecord; readonly bytesDone: number };
/** Outcome of {@link Smmu.dmaWrite}: on a fault, `bytesDone` bytes (whole earlier pages) were written. */
export type DmaWriteResult =
  { readonly ok: true } | { readonly ok: false; readonly fault: SmmuFaultRecord; readonly bytesDone: number };

/** What a DMA-capable device needs: the SMMU implements it. */
export interface DmaPort {
  dmaRead(streamId: number, iova: number, length: number): DmaReadResult;
  dmaWrite(streamId: number, iova: number, data: Uint8Array): DmaWriteResult;
}

/** Statistics counters of the SMMU. */
export interface SmmuStats {
  dmaReads: number;
  dmaWrites: number;
  bytesRead: number;
  bytesWritten: number;
  tlbHits: number;
  tlbMisses: number;
  walkReads: number;
  gptReads: number;
  configFetches: number;
  faults: number;
  gpcFaults: number;
  commands: number;
  commandErrors: number;
  events: number;
  eventsLost: number;
  tlbiPaall: number;
  tlbiRpa: number;
}

/** Unit and description of each SMMU counter. */
export const SMMU_STAT_INFO: Readonly<Record<keyof SmmuStats, { unit: string; description: string }>> = {
  dmaReads: { unit: 'transfers', description: 'DMA read transfers requested by devices' },
  dmaWrites: { unit: 'transfers', description: 'DMA write transfers requested by devices' },
  bytesRead: { unit: 'bytes', description: 'bytes read from memory by completed DMA reads' },
  bytesWritten: { unit: 'bytes', description: 'bytes written to memory by DMA writes' },
  tlbHits: { unit: 'pages', description: 'page translations served by the SMMU TLB' },
  tlbMisses: { unit: 'pages', description: 'page translations that walked (or GPC-checked a bypass page)' },
  walkReads: { unit: 'reads', description: 'stage-1 descriptor fetches' },
  gptReads: { unit: 'reads', description: 'GPT descriptor fetches by the SMMU GPC' },
  configFetches: { unit: 'fetches', description: 'STE/CD fetches on configuration-cache misses' },
  faults: { unit: 'faults', description: 'client transactions aborted by a fault' },
  gpcFaults: { unit: 'faults', description: 'faults caused by a failed granule protection check' },
  commands: { unit: 'commands', description: 'command-queue commands executed' },
  commandErrors: { unit: 'errors', description: 'command-queue errors (CERROR_ILL / CERROR_ABT)' },
  events: { unit: 'records', description: 'event records written to the event queue' },
  eventsLost: { unit: 'records', description: 'event records lost (queue full or write aborted)' },
  tlbiPaall: { unit: 'operations', description: 'TLBI PAALL(OS)-class invalidations received' },
  tlbiRpa: { unit: 'operations', description: 'TLBI RPALOS/RPAOS-class invalidations received' },
};

/** Decoded stream configuration (STE + CD), cached until a CFGI command. */
interface StreamConfig {
  readonly mode: 'abort' | 'bypass' | 'stage1';
  readonly regime: Regime | undefined;
  readonly asid: number;
  /** STE.PRIVCFG = 0b11: transactions are privileged. */
  readonly privileged: boolean;
  /** CD.R: record translation-class faults in the event queue. */
  readonly recordFaults: boolean;
}

/** A fault found before a record is made. */
interface PendingFault {
  kind: SmmuFault;
  source: SmmuFaultSource;
  level: number;
  pa: number | undefined;
  gpc: GpcResult;
  /** Record in the event queue (CD.R for translation-class faults). */
  record: boolean;
}

type Fetched =
  { readonly ok: true; readonly words: Uint32Array } | { readonly ok: false; readonly gpc: GpcResult };

/** Optional connections of an SMMU. */
export interface SmmuOptions {
  /** Level-sensitive interrupt output (event queue non-empty or a global error), if wired. */
  readonly irq?: (level: boolean) => void;
}

// ---------------------------------------------------------------- the SMMU

/** A System MMU with RME granule protection checks. Implements the device-side {@link DmaPort}. */
export class Smmu implements MmioHandler, DmaPort {
  readonly params: SmmuParams;
  readonly name = 'smmu';
  /** The SMMU TLB: stage-1 translations and bypass pages, each with the GPC outcome of its output. */
  readonly tlb: Tlb;
  /** The SMMU's own GPC unit, configured from SMMU_ROOT_GPT_BASE(_CFG) and SMMU_ROOT_CR0.GPCEN. */
  readonly gpc: GranuleProtectionCheck;
  readonly stats: SmmuStats = {
    dmaReads: 0,
    dmaWrites: 0,
    bytesRead: 0,
    bytesWritten: 0,
    tlbHits: 0,
    tlbMisses: 0,
    walkReads: 0,
    gptReads: 0,
    configFetches: 0,
    faults: 0,
    gpcFaults: 0,
    commands: 0,
    commandErrors: 0,
    events: 0,
    eventsLost: 0,
    tlbiPaall: 0,
    tlbiRpa: 0,
  };

  private readonly memory: PhysicalMemory;
  private readonly walker: Stage1Walker;
  private readonly result = new TranslationResult();
  private readonly irq: ((level: boolean) => void) | undefined;
  private irqLevel = false;
  /** Configuration cache, indexed by StreamID (sparse). */
  private configCache: (StreamConfig | undefined)[] = [];
  private readonly log: SmmuFaultRecord[] = [];
  private gptTag = 0;

  // Non-secure page registers (64-bit ones as [low, high]).
  private cr0 = 0;
  private cr1 = 0;
  private cr2 = 0;
  private gbpa = SmmuBits.GBPA_ABORT; // SIMPLIFICATION: reset value chosen as "abort" (IMPLEMENTATION DEFINED)
  private irqCtrl = 0;
  private gerror = 0;
  private gerrorn = 0;
  private readonly strtabBase = new Uint32Array(2);
  private strtabBaseCfg = 0;
  private readonly cmdqBase = new Uint32Array(2);
  private cmdqProd = 0;
  private cmdqCons = 0;
  private readonly eventqBase = new Uint32Array(2);
  private eventqProd = 0;
  private eventqCons = 0;
  // Root page registers.
  private rootCr0 = 0;
  private readonly gptBase = new Uint32Array(2);
  private readonly gptBaseCfg = new Uint32Array(2);
  private readonly gpfFar = new Uint32Array(2);
  private readonly gptCfgFar = new Uint32Array(2);
  private readonly rootTlbi = new Uint32Array(2);

  constructor(input: SmmuParamsInput, memory: PhysicalMemory, options: SmmuOptions = {}) {
    this.params = parseParams(smmuParamsSchema, input, 'smmu');
    this.memory = memory;
    this.walker = new Stage1Walker(memory);
    this.gpc = new GranuleProtectionCheck(
      memory,
      this.params.paRangeBits,
      this.params.gptInfoEntries,
      this.params.gptTaggedTlb,
    );
    this.tlb = new Tlb({ entries: this.params.tlbEntries });
    this.irq = options.irq;
    this.configureGpc();
  }

  // -------------------------------------------------------------- DMA (called by devices)

  /**
   * Read `length` bytes at `iova` for the device with `streamId`. Each page is translated (TLB, then
   * walk) and GPC-checked; a fault aborts the transfer, is recorded, and is returned.
   */
  dmaRead(streamId: number, iova: number, length: number): DmaReadResult {
    checkTransfer(streamId, iova, length);
    this.stats.dmaReads++;
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const at = iova + done;
      const chunk = Math.min(length - done, FRAME_BYTES - pageOffset(at));
      const pa = this.translate(streamId, at, Access.Read);
      if (pa < 0) return { ok: false, fault: this.log[this.log.length - 1]!, bytesDone: done };
      out.set(this.memory.readBytes(pa, chunk)!, done);
      done += chunk;
    }
    this.stats.bytesRead += length;
    return { ok: true, data: out };
  }

  /**
   * Write `data` at `iova` for the device with `streamId`, page by page. A fault aborts the transfer
   * with nothing further written (earlier pages stay written, as on a real bus), is recorded, and is
   * returned.
   */
  dmaWrite(streamId: number, iova: number, data: Uint8Array): DmaWriteResult {
    checkTransfer(streamId, iova, data.length);
    this.stats.dmaWrites++;
    let done = 0;
    while (done < data.length) {
      const at = iova + done;
      const chunk = Math.min(data.length - done, FRAME_BYTES - pageOffset(at));
      const pa = this.translate(streamId, at, Access.Write);
      if (pa < 0) {
        this.stats.bytesWritten += done;
        return { ok: false, fault: this.log[this.log.length - 1]!, bytesDone: done };
      }
      this.memory.writeBytes(pa, data.subarray(done, done + chunk));
      done += chunk;
    }
    this.stats.bytesWritten += data.length;
    return { ok: true };
  }

  /**
   * Translate one access of a client transaction. Returns the PA, or -1 after recording a fault.
   * Order: ACCESSEN, SMMUEN/GBPA, stream configuration, TLB, walk, GPC on the output.
   */
  private translate(streamId: number, iova: number, access: Access): number {
    const write = access === Access.Write;
    // SMMU_ROOT_CR0.ACCESSEN = 0: every transaction is terminated (TF-A smmu_v3.c L132-151).
    if ((this.rootCr0 & SmmuBits.ROOT_CR0_ACCESSEN) === 0) return this.terminate(streamId, iova, write);
    // SMMU_CR0.SMMUEN = 0: transactions follow SMMU_GBPA (abort, or bypass — still GPC-checked).
    if ((this.cr0 & SmmuBits.CR0_SMMUEN) === 0) {
      if (this.gbpa & SmmuBits.GBPA_ABORT) return this.terminate(streamId, iova, write);
      return this.bypass(streamId, iova, access);
    }
    const config = this.streamConfig(streamId, iova, write);
    if (config === undefined) return -1;
    switch (config.mode) {
      case 'abort':
        return this.terminate(streamId, iova, write);
      case 'bypass':
        return this.bypass(streamId, iova, access);
      case 'stage1':
        return this.stage1(config, streamId, iova, access);
    }
  }

  /** Terminate a transaction without translating it (and without an event record). */
  private terminate(streamId: number, iova: number, write: boolean): number {
    return this.fail(streamId, iova, write, fault(SmmuFault.Terminated, SmmuFaultSource.Transaction, false));
  }

  /** Bypass: IOVA = PA, GPC-checked; the GPC outcome is cached in the TLB like any GPT information. */
  private bypass(streamId: number, iova: number, access: Access): number {
    const write = access === Access.Write;
    if (iova < 0 || iova >= 2 ** this.params.paRangeBits) {
      const f = fault(SmmuFault.AddressSize, SmmuFaultSource.Transaction, true);
      return this.fail(streamId, iova, write, f);
    }
    const tlb = this.tlb;
    const vpn = Math.floor(iova / FRAME_BYTES);
    const i = tlb.indexOf(vpn);
    if (tlb.vpn[i] === vpn && tlb.regime[i] === REGIME_BYPASS && tlb.gptTag[i] === this.gptTag) {
      this.stats.tlbHits++;
      tlb.stats.hits++;
      return iova;
    }
    this.stats.tlbMisses++;
    tlb.stats.misses++;
    const readsBefore = this.gpc.tableReads;
    const check = this.gpc.check(iova, Pas.NonSecure, Pas.NonSecure);
    this.stats.gptReads += this.gpc.tableReads - readsBefore;
    if (check !== GPC_OK) {
      const f = fault(SmmuFault.Gpc, SmmuFaultSource.Transaction, false);
      f.pa = iova;
      f.gpc = check;
      return this.fail(streamId, iova, write, f);
    }
    const pagePa = vpn * FRAME_BYTES;
    const frame = this.dramFrame(pagePa);
    if (frame < 0) {
      const f = fault(SmmuFault.ExternalAbort, SmmuFaultSource.Transaction, false);
      f.pa = iova;
      return this.fail(streamId, iova, write, f);
    }
    tlb.fill(vpn, REGIME_BYPASS, GLOBAL_ASID, this.gptTag, frame, pagePa, Pas.NonSecure, 0x3f, 12);
    return iova;
  }

  /** Stage-1 translation through the stream's CD, with the TLB in front of the walker. */
  private stage1(config: StreamConfig, streamId: number, iova: number, access: Access): number {
    const write = access === Access.Write;
    const el = config.privileged ? 1 : 0;
    const need = neededPerm(access, el);
    const tlb = this.tlb;
    const vpn = Math.floor(iova / FRAME_BYTES);
    const i = tlb.indexOf(vpn);
    if (
      tlb.vpn[i] === vpn &&
      tlb.regime[i] === REGIME_S1 &&
      (tlb.asid[i] === config.asid || tlb.asid[i] === GLOBAL_ASID) &&
      tlb.gptTag[i] === this.gptTag &&
      (tlb.perms[i]! & need) !== 0
    ) {
      this.stats.tlbHits++;
      tlb.stats.hits++;
      return tlb.pagePa[i]! + (iova - vpn * FRAME_BYTES);
    }
    this.stats.tlbMisses++;
    tlb.stats.misses++;
    const out = this.result;
    const readsBefore = this.gpc.tableReads;
    // The walk and the output check use the SMMU's GPC, in the Non-secure PAS (SIMPLIFICATION above).
    this.walker.translate(config.regime!, this.gpc, Pas.NonSecure, iova, el, access, out);
    this.stats.walkReads += out.walkReads;
    this.stats.gptReads += this.gpc.tableReads - readsBefore;
    if (out.fault !== MmuFault.None)
      return this.fail(streamId, iova, write, walkFault(out, config.recordFaults));
    const pagePa = Math.floor(out.pa / FRAME_BYTES) * FRAME_BYTES;
    const frame = this.dramFrame(pagePa);
    if (frame < 0) {
      const f = fault(SmmuFault.ExternalAbort, SmmuFaultSource.Transaction, false);
      f.pa = out.pa;
      return this.fail(streamId, iova, write, f);
    }
    const asid = out.global ? GLOBAL_ASID : config.asid;
    tlb.fill(vpn, REGIME_S1, asid, this.gptTag, frame, pagePa, out.pas, out.perms, out.sizeShift);
    return out.pa;
  }

  /** Backing frame of a DRAM page; negative for no memory or a device window. */
  private dramFrame(pagePa: number): number {
    const frame = this.memory.frameOf(pagePa, true);
    // SIMPLIFICATION: DMA to another device's MMIO window (peer-to-peer) is not modelled: it aborts.
    return frame === NO_FRAME || frame === MMIO_FRAME ? -1 : frame;
  }

  // -------------------------------------------------------------- stream configuration

  /** The configuration of `streamId`, from the cache or fetched; undefined after recording a fault. */
  private streamConfig(streamId: number, iova: number, write: boolean): StreamConfig | undefined {
    const cached = this.configCache[streamId];
    if (cached !== undefined) return cached;
    const failWith = (f: PendingFault): undefined => {
      this.fail(streamId, iova, write, f);
      return undefined;
    };
    this.stats.configFetches++;
    const cfg = this.strtabBaseCfg;
    const log2Size = Math.min(cfg & 0x3f, this.params.streamIdBits);
    // SIMPLIFICATION: only the linear format (IDR0.ST_LVL = 0); FMT = 2-level is treated as no table.
    if (((cfg >>> 16) & 3) !== 0 || streamId >= 2 ** log2Size) {
      return failWith(fault(SmmuFault.BadStreamId, SmmuFaultSource.Ste, true));
    }
    const stePa =
      join(this.strtabBase[0]! & 0xffff_ffc0, this.strtabBase[1]! & 0xfffff) + streamId * STE_BYTES;
    const ste = this.fetch(stePa, 4);
    if (!ste.ok) return failWith(fetchFault(SmmuFault.SteFetch, SmmuFaultSource.Ste, stePa, ste.gpc));
    // STE dword0 = words 0-1, dword1 = words 2-3.
    const s0 = ste.words[0]!;
    const s1 = ste.words[1]!;
    const s2 = ste.words[2]!;
    const s3 = ste.words[3]!;
    const badSte = (): undefined =>
      failWith(withPa(fault(SmmuFault.BadSte, SmmuFaultSource.Ste, true), stePa));
    if ((s0 & 1) === 0) return badSte(); // STE.V = 0
    const privileged = ((s3 >>> 16) & 3) === 0b11; // STE.PRIVCFG [49:48]
    switch ((s0 >>> 1) & 7) {
      case 0b000:
        return this.cacheConfig(streamId, {
          mode: 'abort',
          regime: undefined,
          asid: 0,
          privileged,
          recordFaults: false,
        });
      case 0b100:
        return this.cacheConfig(streamId, {
          mode: 'bypass',
          regime: undefined,
          asid: 0,
          privileged,
          recordFaults: true,
        });
      case 0b101:
        break;
      default:
        // Reserved values, and stage 2 (IDR0.S2P = 0) → C_BAD_STE.
        return badSte();
    }
    // STE.STRW must select NS-EL1 (IDR0.HYP = 0, Non-secure stream).
    if (((s2 >>> 30) & 3) !== 0) return badSte();
    const cdPa = join(s0 & 0xffff_ffc0, s1 & 0xfffff); // S1ContextPtr [51:6]
    const cd = this.fetch(cdPa, 6);
    if (!cd.ok) return failWith(fetchFault(SmmuFault.CdFetch, SmmuFaultSource.Cd, cdPa, cd.gpc));
    // CD dword0 = words 0-1 (TCR fields, ASID), dword1 = words 2-3 (TTB0), dword2 = words 4-5 (TTB1).
    const w = cd.words;
    const [c0, c1, c2, c3, c4, c5] = [w[0]!, w[1]!, w[2]!, w[3]!, w[4]!, w[5]!];
    // CD.V = 1, CD.AA64 = 1 (IDR0.TTF = AArch64 only), CD.ENDI = 0 (IDR0.TTENDIAN = little-endian only).
    if (((c0 >>> 31) & 1) === 0 || ((c1 >>> 9) & 1) === 0 || ((c0 >>> 15) & 1) === 1) {
      return failWith(withPa(fault(SmmuFault.BadCd, SmmuFaultSource.Cd, true), cdPa));
    }
    const asid = c1 >>> 16;
    // CD fields → TCR_EL1 positions: T0SZ [5:0], EPD0 [7], TG0 [15:14], T1SZ [21:16], EPD1 [23],
    // TG1 [31:30]; IPS [34:32], AS [36] = 1 (16-bit ASIDs), HA [39]; A1 = 0 (ASID from TTB0).
    const tcrLow =
      ((c0 & 0x3f) |
        (((c0 >>> 14) & 1) << 7) |
        (((c0 >>> 6) & 3) << 14) |
        (((c0 >>> 16) & 0x3f) << 16) |
        (((c0 >>> 30) & 1) << 23) |
        (((c0 >>> 22) & 3) << 30)) >>>
      0;
    const tcrHigh = (c1 & 7) | (1 << 4) | (((c1 >>> 11) & 1) << 7);
    const regime = decodeEl10(
      {
        tcr: [tcrLow, tcrHigh],
        ttbr0: [(c2 & 0xffff_fff0) >>> 0, ((c3 & 0xfffff) | (asid << 16)) >>> 0],
        ttbr1: [(c4 & 0xffff_fff0) >>> 0, c5 & 0xfffff],
        sctlr: [(1 | (((c1 >>> 4) & 1) << 19)) >>> 0, 0], // M = 1; WXN from CD.WXN [36]
      },
      this.params.paRangeBits,
    );
    const recordFaults = ((c1 >>> 13) & 1) === 1; // CD.R [45]
    return this.cacheConfig(streamId, { mode: 'stage1', regime, asid, privileged, recordFaults });
  }

  private cacheConfig(streamId: number, config: StreamConfig): StreamConfig {
    this.configCache[streamId] = config;
    return config;
  }

  /**
   * An SMMU-originated read of `words` u32 at `pa` (naturally aligned, inside one page): GPC-checked in
   * the Non-secure PAS first; a bus error is reported with gpc = GPC_OK.
   */
  private fetch(pa: number, words: number): Fetched {
    assert(pageOffset(pa) + 4 * words <= FRAME_BYTES, 'SMMU structure fetches stay inside one page');
    const readsBefore = this.gpc.tableReads;
    const check = this.gpc.check(pa, Pas.NonSecure, Pas.NonSecure);
    this.stats.gptReads += this.gpc.tableReads - readsBefore;
    if (check !== GPC_OK) return { ok: false, gpc: check };
    const out = new Uint32Array(words);
    for (let w = 0; w < words; w++) {
      const value = this.memory.read32(pa + 4 * w);
      if (value === EXTERNAL_ABORT) return { ok: false, gpc: GPC_OK };
      out[w] = value;
    }
    return { ok: true, words: out };
  }

  /** An SMMU-originated write (event records): GPC-checked in the Non-secure PAS. False on failure. */
  private store(pa: number, words: readonly number[]): boolean {
    assert(pageOffset(pa) + 4 * words.length <= FRAME_BYTES, 'SMMU structure writes stay inside one page');
    const readsBefore = this.gpc.tableReads;
    const check = this.gpc.check(pa, Pas.NonSecure, Pas.NonSecure);
    this.stats.gptReads += this.gpc.tableReads - readsBefore;
    if (check !== GPC_OK || !this.memory.isDram(pa)) return false;
    words.forEach((value, w) => this.memory.write32(pa + 4 * w, value));
    return true;
  }

  // -------------------------------------------------------------- faults

  /** Record a fault of a client transaction (log, statistics, Root FARs, event queue); returns -1. */
  private fail(streamId: number, iova: number, write: boolean, f: PendingFault): number {
    const event = f.record ? eventFor(f) : SmmuEvent.None;
    const record: SmmuFaultRecord = {
      streamId,
      iova,
      write,
      kind: f.kind,
      source: f.source,
      level: f.level,
      pa: f.pa,
      pas: Pas.NonSecure,
      gpc: f.gpc,
      event,
    };
    this.log.push(record);
    if (this.log.length > this.params.faultLogEntries) this.log.shift();
    this.stats.faults++;
    if (f.kind === SmmuFault.Gpc) {
      this.stats.gpcFaults++;
      // [UNCONFIRMED] register layout (spec §6): FAR = PA [51:12] | GPCSC [5:0], with the PAS in
      // bits [63:62] as {NS, NSE} like MFAR_EL3. A GPF goes to GPF_FAR, GPT walk/size/abort faults to
      // GPT_CFG_FAR; both are Root-only, so the Non-secure driver learns nothing beyond the abort.
      const far = gpcFaultKind(f.gpc) === GpcFault.GPF ? this.gpfFar : this.gptCfgFar;
      const page = Math.floor((f.pa ?? 0) / FRAME_BYTES) * FRAME_BYTES;
      far[0] = ((page % 2 ** 32) | gpcStatusCode(f.gpc)) >>> 0;
      far[1] = (Math.floor(page / 2 ** 32) | (1 << 31)) >>> 0; // NS = 1, NSE = 0: Non-secure PAS
    }
    if (event !== SmmuEvent.None) this.writeEvent(event, record);
    return -1;
  }

  /** Append an event record (reduced F_TRANSLATION layout) to the event queue if it is enabled. */
  private writeEvent(event: number, record: SmmuFaultRecord): void {
    if ((this.cr0 & SmmuBits.CR0_EVENTQEN) === 0) return;
    const log2 = Math.min(this.eventqBase[0]! & 0x1f, EVENTQ_MAX_LOG2);
    const entries = 2 ** log2;
    const wrapMask = entries * 2 - 1;
    const prod = this.eventqProd & wrapMask;
    const cons = this.eventqCons & wrapMask;
    if ((prod ^ cons) === entries) {
      // Full: the record is lost and PROD.OVFLG toggles (SMMUv3 §7.4 queue overflow).
      this.eventqProd = (this.eventqProd ^ SmmuBits.Q_OVERFLOW) >>> 0;
      this.stats.eventsLost++;
      return;
    }
    const base = join(this.eventqBase[0]! & 0xffff_ffe0, this.eventqBase[1]! & 0xfffff);
    const [iovaLow, iovaHigh] = halves(record.iova);
    const [paLow, paHigh] = halves(record.source === SmmuFaultSource.Transaction ? 0 : (record.pa ?? 0));
    // dword0: EventID [7:0], StreamID [63:32]; dword1: PnU [33], RnW [35] (1 = read);
    // dword2: InputAddr; dword3: FetchAddr of an STE/CD/descriptor fetch, else 0.
    const pnu = record.write ? 0 : 1 << 3;
    const words = [event, record.streamId >>> 0, 0, pnu, iovaLow, iovaHigh, paLow & ~7, paHigh];
    if (!this.store(base + (prod & (entries - 1)) * EVENT_BYTES, words)) {
      this.raiseGlobalError(SmmuBits.GERROR_EVENTQ_ABT_ERR);
      this.stats.eventsLost++;
      return;
    }
    this.eventqProd = ((this.eventqProd & SmmuBits.Q_OVERFLOW) | ((prod + 1) & wrapMask)) >>> 0;
    this.stats.events++;
    this.updateIrq();
  }

  /** Toggle a GERROR bit to signal a new error, unless that error is already active. */
  private raiseGlobalError(bit: number): void {
    if (((this.gerror ^ this.gerrorn) & bit) === 0) this.gerror = (this.gerror ^ bit) >>> 0;
    this.updateIrq();
  }

  private updateIrq(): void {
    const log2 = Math.min(this.eventqBase[0]! & 0x1f, EVENTQ_MAX_LOG2);
    const wrapMask = 2 ** (log2 + 1) - 1;
    const eventsPending = (this.eventqProd & wrapMask) !== (this.eventqCons & wrapMask);
    const level =
      ((this.irqCtrl & SmmuBits.IRQ_CTRL_EVENTQ_IRQEN) !== 0 && eventsPending) ||
      ((this.irqCtrl & SmmuBits.IRQ_CTRL_GERROR_IRQEN) !== 0 && ((this.gerror ^ this.gerrorn) & 0xfd) !== 0);
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq?.(level);
    }
  }

  /** The fault records kept so far, oldest first. */
  faultLog(): readonly SmmuFaultRecord[] {
    return [...this.log];
  }

  /** Forget the kept fault records (statistics are unchanged). */
  clearFaultLog(): void {
    this.log.length = 0;
  }

  // -------------------------------------------------------------- invalidation

  /**
   * TLBI PAALL / PAALLOS reaching the SMMU (Machine's broadcast): drop all GPT information, in the
   * TLB and in the GPC unit's cache. SIMPLIFICATION: spec §6 leaves open whether PE-issued TLBI PA*
   * reach SMMU TLBs ([UNCONFIRMED]); TF-A's transition path never touches SMMU_ROOT_TLBI, which
   * implies they do, so the model broadcasts them.
   */
  invalidateGptInfoAll(): void {
    this.stats.tlbiPaall++;
    this.tlb.invalidateAll();
    this.gpc.invalidateAll();
  }

  /** TLBI RPALOS / RPAOS over [base, base + size) reaching the SMMU (Machine's broadcast). */
  invalidateGptInfoRange(base: number, size: number): void {
    this.stats.tlbiRpa++;
    this.tlb.invalidatePaRange(base, size);
    this.gpc.invalidateRange(base, size);
  }

  /** CMD_TLBI_NSNH_ALL: every TLB entry (stage 1 and bypass). */
  invalidateAll(): void {
    this.tlb.invalidateAll();
  }

  /** CMD_TLBI_NH_ALL: every stage-1 entry. */
  invalidateStage1All(): void {
    this.tlb.invalidateAll(REGIME_S1);
  }

  /** CMD_TLBI_NH_ASID: non-global stage-1 entries of `asid`. */
  invalidateAsid(asid: number): void {
    this.tlb.invalidateAsid(asid, REGIME_S1);
  }

  /** CMD_TLBI_NH_VA (with `asid`: that ASID and global entries) or CMD_TLBI_NH_VAA (any ASID). */
  invalidateVa(iova: number, asid?: number): void {
    this.tlb.invalidateVa(iova, REGIME_S1, asid);
  }

  /** CMD_CFGI_STE / CMD_CFGI_CD(_ALL): forget the cached STE and CD of `streamId`. */
  invalidateStreamConfig(streamId: number): void {
    this.configCache[streamId] = undefined;
  }

  /** CMD_CFGI_STE_RANGE with Range = 31 (CFGI_ALL): forget every cached configuration. */
  invalidateAllConfig(): void {
    this.configCache = [];
  }

  // -------------------------------------------------------------- GPC configuration

  /**
   * Reload the GPC unit: SMMU_ROOT_GPT_BASE_CFG is a copy of GPCCR_EL3 with GPC (bit 16) RES0, and
   * the check is enabled by SMMU_ROOT_CR0.GPCEN instead; SMMU_ROOT_GPT_BASE holds the L0 table PA
   * (bits [51:12]), i.e. GPTBR_EL3 << 12 (TF-A smmu_v3.c L111-130).
   */
  private configureGpc(): void {
    const gpcen = (this.rootCr0 & SmmuBits.ROOT_CR0_GPCEN) !== 0;
    const gpccr = ((this.gptBaseCfg[0]! & ~GPCCR_GPC) | (gpcen ? GPCCR_GPC : 0)) >>> 0;
    const baddrLow = ((this.gptBase[0]! >>> 12) | (this.gptBase[1]! << 20)) >>> 0;
    const baddrHigh = this.gptBase[1]! >>> 12;
    this.gpc.configure(gpccr, baddrLow, baddrHigh);
    this.gptTag = this.params.gptTaggedTlb
      ? join(this.gptBase[0]! & 0xffff_f000, this.gptBase[1]! & 0xfffff)
      : 0;
  }

  // -------------------------------------------------------------- command queue

  /** Consume commands from CONS to PROD while the queue is enabled and no command error is active. */
  private consumeCommands(): void {
    if ((this.cr0 & SmmuBits.CR0_CMDQEN) === 0) return;
    if (((this.gerror ^ this.gerrorn) & SmmuBits.GERROR_CMDQ_ERR) !== 0) return;
    const log2 = Math.min(this.cmdqBase[0]! & 0x1f, CMDQ_MAX_LOG2);
    const entries = 2 ** log2;
    const wrapMask = entries * 2 - 1;
    const base = join(this.cmdqBase[0]! & 0xffff_ffe0, this.cmdqBase[1]! & 0xfffff);
    let cons = this.cmdqCons & wrapMask;
    const prod = this.cmdqProd & wrapMask;
    let error = 0;
    while (cons !== prod) {
      const command = this.fetch(base + (cons & (entries - 1)) * CMD_BYTES, 4);
      if (!command.ok) {
        error = CERROR_ABT;
        break;
      }
      if (!this.execute(command.words)) {
        error = CERROR_ILL;
        break;
      }
      this.stats.commands++;
      cons = (cons + 1) & wrapMask;
    }
    // CONS.ERR [30:24]; on an error CONS stays on the failing command (SMMUv3 §7.1).
    this.cmdqCons = ((error << 24) | cons) >>> 0;
    if (error !== 0) {
      this.stats.commandErrors++;
      this.raiseGlobalError(SmmuBits.GERROR_CMDQ_ERR);
    }
  }

  /** Execute one command; false for an illegal one. */
  private execute(words: Uint32Array): boolean {
    // dword0 = words 0-1 (opcode [7:0], StreamID or ASID in the high word), dword1 = words 2-3.
    const [w0, w1, w2, w3] = [words[0]!, words[1]!, words[2]!, words[3]!];
    switch (w0 & 0xff) {
      case SmmuCmd.PREFETCH_CONFIG:
      case SmmuCmd.CMD_SYNC:
        // Commands complete in order and at once, so a sync has nothing left to wait for.
        return true;
      case SmmuCmd.CFGI_STE:
      case SmmuCmd.CFGI_CD:
      case SmmuCmd.CFGI_CD_ALL:
        this.invalidateStreamConfig(w1);
        return true;
      case SmmuCmd.CFGI_STE_RANGE: {
        const range = w2 & 0x1f; // invalidates 2^(Range+1) StreamIDs, aligned
        if (range === 31) {
          this.invalidateAllConfig();
        } else {
          const span = 2 ** (range + 1);
          const first = Math.floor(w1 / span) * span;
          for (let sid = first; sid < first + span; sid++) this.invalidateStreamConfig(sid);
        }
        return true;
      }
      case SmmuCmd.TLBI_NH_ALL:
        this.invalidateStage1All();
        return true;
      case SmmuCmd.TLBI_NH_ASID:
        this.invalidateAsid(w1 >>> 16);
        return true;
      case SmmuCmd.TLBI_NH_VA:
      case SmmuCmd.TLBI_NH_VAA: {
        // Address [63:12] of dword1, as the model's signed VA number.
        const va = (w3 | 0) * 2 ** 32 + ((w2 & 0xffff_f000) >>> 0);
        this.invalidateVa(va, (w0 & 0xff) === SmmuCmd.TLBI_NH_VA ? w1 >>> 16 : undefined);
        return true;
      }
      case SmmuCmd.TLBI_NSNH_ALL:
        this.invalidateAll();
        return true;
      default:
        return false;
    }
  }

  // -------------------------------------------------------------- MMIO window

  /** Read a 32-bit register of the window; EXTERNAL_ABORT for an offset with no register. */
  read32(offset: number): number {
    switch (offset) {
      case SmmuReg.IDR0:
        return IDR0_VALUE;
      case SmmuReg.IDR1:
        // CMDQS [25:21], EVENTQS [20:16], SSIDSIZE [10:6] = 0, SIDSIZE [5:0].
        return ((CMDQ_MAX_LOG2 << 21) | (EVENTQ_MAX_LOG2 << 16) | this.params.streamIdBits) >>> 0;
      case SmmuReg.IDR3:
      case SmmuReg.IIDR:
        return 0;
      case SmmuReg.IDR5:
        return (1 << 4) | (OAS_ENCODING[this.params.paRangeBits] ?? 5);
      case SmmuReg.AIDR:
        return 3; // SMMUv3.3: the version that adds RME support
      case SmmuReg.CR0:
      case SmmuReg.CR0ACK:
        return this.cr0;
      case SmmuReg.CR1:
        return this.cr1;
      case SmmuReg.CR2:
        return this.cr2;
      case SmmuReg.GBPA:
        return this.gbpa;
      case SmmuReg.IRQ_CTRL:
      case SmmuReg.IRQ_CTRLACK:
        return this.irqCtrl;
      case SmmuReg.GERROR:
        return this.gerror;
      case SmmuReg.GERRORN:
        return this.gerrorn;
      case SmmuReg.STRTAB_BASE_CFG:
        return this.strtabBaseCfg;
      case SmmuReg.CMDQ_PROD:
        return this.cmdqProd;
      case SmmuReg.CMDQ_CONS:
        return this.cmdqCons;
      case SmmuReg.EVENTQ_PROD:
        return this.eventqProd;
      case SmmuReg.EVENTQ_CONS:
        return this.eventqCons;
      case SmmuReg.S_INIT:
        return 0; // INV_ALL completes at once
      case SmmuReg.ROOT_IDR0:
        return 1; // ROOT_IMPL
      case SmmuReg.ROOT_IIDR:
        return 0;
      case SmmuReg.ROOT_CR0:
      case SmmuReg.ROOT_CR0ACK:
        return this.rootCr0;
      case SmmuReg.ROOT_TLBI_CTRL:
        return 0; // RUN reads 0: invalidations complete at once
      default: {
        const pair = this.pairAt(offset);
        return pair === undefined ? EXTERNAL_ABORT : pair[(offset & 4) >>> 2]!;
      }
    }
  }

  /** Write a 32-bit register of the window; false for an offset with no register. */
  write32(offset: number, value: number): boolean {
    value >>>= 0;
    switch (offset) {
      case SmmuReg.CR0: {
        const wasCmdq = (this.cr0 & SmmuBits.CR0_CMDQEN) !== 0;
        this.cr0 = value & 0x1f; // CR0ACK follows at once
        if (!wasCmdq && (this.cr0 & SmmuBits.CR0_CMDQEN) !== 0) this.consumeCommands();
        return true;
      }
      case SmmuReg.CR1:
        this.cr1 = value & 0xfff;
        return true;
      case SmmuReg.CR2:
        this.cr2 = value & 0x7;
        return true;
      case SmmuReg.GBPA:
        // Fields take effect on a write with UPDATE = 1, which completes at once (reads back 0).
        if (value & SmmuBits.GBPA_UPDATE) this.gbpa = value & ~SmmuBits.GBPA_UPDATE & 0x7fff_ffff;
        return true;
      case SmmuReg.IRQ_CTRL:
        this.irqCtrl = value & 0x7;
        this.updateIrq();
        return true;
      case SmmuReg.GERRORN:
        this.gerrorn = value & 0x1fd;
        this.updateIrq();
        this.consumeCommands(); // an acknowledged command error lets consumption resume
        return true;
      case SmmuReg.STRTAB_BASE_CFG:
        this.strtabBaseCfg = value & 0x3_07ff;
        return true;
      case SmmuReg.CMDQ_PROD:
        this.cmdqProd = value & 0xf_ffff;
        this.consumeCommands();
        return true;
      case SmmuReg.CMDQ_CONS:
        this.cmdqCons = value & 0x7f0f_ffff;
        return true;
      case SmmuReg.EVENTQ_PROD:
        this.eventqProd = value;
        this.updateIrq();
        return true;
      case SmmuReg.EVENTQ_CONS:
        this.eventqCons = value;
        this.updateIrq();
        return true;
      case SmmuReg.S_INIT:
        // SMMU_S_INIT.INV_ALL: invalidate every cached structure, including GPT information
        // (TF-A smmu_v3.c L75-96 issues it before enabling ACCESSEN/GPCEN).
        if (value & SmmuBits.S_INIT_INV_ALL) {
          this.tlb.invalidateAll();
          this.gpc.invalidateAll();
          this.invalidateAllConfig();
        }
        return true;
      case SmmuReg.ROOT_CR0:
        this.rootCr0 = value & 3; // ROOT_CR0ACK follows at once
        this.configureGpc();
        return true;
      case SmmuReg.ROOT_TLBI_CTRL:
        if (value & SmmuBits.ROOT_TLBI_CTRL_RUN)
          this.rootInvalidate((value & SmmuBits.ROOT_TLBI_CTRL_ALL) !== 0);
        return true;
      case SmmuReg.ROOT_GPT_BASE_CFG:
        this.gptBaseCfg[0] = value & ~GPCCR_GPC; // GPC (bit 16) is RES0 here
        this.configureGpc();
        return true;
      default: {
        const pair = this.pairAt(offset);
        if (pair === undefined) return false; // (the FARs are writable so Root software can clear them)
        pair[(offset & 4) >>> 2] = value;
        if (pair === this.gptBase || pair === this.gptBaseCfg) this.configureGpc();
        return true;
      }
    }
  }

  /** Write a 64-bit register as two words (a convenience for tests and host-side tools). */
  write64(offset: number, value: number): boolean {
    const [low, high] = halves(value);
    return this.write32(offset, low) && this.write32(offset + 4, high);
  }

  /** Read a 64-bit register as a number (exact below 2^53). */
  read64(offset: number): number {
    const low = this.read32(offset);
    const high = this.read32(offset + 4);
    return low < 0 || high < 0 ? EXTERNAL_ABORT : join(low, high);
  }

  /** The [low, high] storage of the 64-bit register containing `offset`, if any. */
  private pairAt(offset: number): Uint32Array | undefined {
    switch (offset & ~4) {
      case SmmuReg.STRTAB_BASE:
        return this.strtabBase;
      case SmmuReg.CMDQ_BASE:
        return this.cmdqBase;
      case SmmuReg.EVENTQ_BASE:
        return this.eventqBase;
      case SmmuReg.ROOT_GPT_BASE:
        return this.gptBase;
      case SmmuReg.ROOT_GPT_BASE_CFG:
        return this.gptBaseCfg;
      case SmmuReg.ROOT_GPF_FAR:
        return this.gpfFar;
      case SmmuReg.ROOT_GPT_CFG_FAR:
        return this.gptCfgFar;
      case SmmuReg.ROOT_TLBI:
        return this.rootTlbi;
      default:
        return undefined;
    }
  }

  /**
   * SMMU_ROOT_TLBI_CTRL.RUN: invalidate GPT information. [UNCONFIRMED] operand format (spec §6):
   * the model takes SMMU_ROOT_TLBI in the TLBI RPA* operand format (SIZE [47:44], base address by
   * PGS in [39:0]), and CTRL bit 1 (ALL) as "everything", like TLBI PAALL.
   */
  private rootInvalidate(all: boolean): void {
    if (all) {
      this.invalidateGptInfoAll();
      return;
    }
    const xt = join(this.rootTlbi[0]!, this.rootTlbi[1]! & 0xffff);
    let size = RPA_SIZES[Math.floor(xt / 2 ** 44) & 0xf];
    if (size === undefined) return; // reserved SIZE: nothing need be invalidated
    const granule = this.gpc.granuleBytes;
    const base = Math.floor(((xt % 2 ** 40) * 4096) / granule) * granule;
    size = Math.max(size, granule);
    if (base % size === 0) this.invalidateGptInfoRange(base, size);
  }
}

// ---------------------------------------------------------------- helpers

function parseParams<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new RangeError(`${what} parameters: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  return result.data;
}

/** Reject malformed transfer requests (a device-model bug or bad user input). */
function checkTransfer(streamId: number, iova: number, length: number): void {
  if (!Number.isInteger(streamId) || streamId < 0 || streamId >= 2 ** 32) {
    throw new RangeError(`smmu: stream id ${streamId} is not a 32-bit StreamID`);
  }
  if (!Number.isSafeInteger(iova) || !Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`smmu: bad transfer (iova ${iova}, length ${length})`);
  }
}

function pageOffset(address: number): number {
  return address - Math.floor(address / FRAME_BYTES) * FRAME_BYTES;
}

function join(low: number, high: number): number {
  return high * 2 ** 32 + (low >>> 0);
}

/** A number (possibly a negative VA) as two's-complement 32-bit halves. */
function halves(value: number): [number, number] {
  const high = Math.floor(value / 2 ** 32);
  return [(value - high * 2 ** 32) >>> 0, high >>> 0];
}

function fault(kind: SmmuFault, source: SmmuFaultSource, record: boolean): PendingFault {
  return { kind, source, level: 0, pa: undefined, gpc: GPC_OK, record };
}

function withPa(f: PendingFault, pa: number): PendingFault {
  f.pa = pa;
  return f;
}

/** An STE or CD fetch that failed: a GPC fault, or an external abort (F_STE_FETCH / F_CD_FETCH). */
function fetchFault(kind: SmmuFault, source: SmmuFaultSource, pa: number, gpc: GpcResult): PendingFault {
  const f = fault(gpc === GPC_OK ? kind : SmmuFault.Gpc, source, true);
  f.pa = pa;
  f.gpc = gpc;
  return f;
}

/** Map a walker outcome to a pending SMMU fault. */
function walkFault(out: TranslationResult, recordFaults: boolean): PendingFault {
  const f = fault(SmmuFault.Translation, SmmuFaultSource.Transaction, recordFaults);
  f.level = out.level;
  switch (out.fault) {
    case MmuFault.Translation:
      break;
    case MmuFault.AddressSize:
      f.kind = SmmuFault.AddressSize;
      break;
    case MmuFault.AccessFlag:
      f.kind = SmmuFault.AccessFlag;
      break;
    case MmuFault.Permission:
      f.kind = SmmuFault.Permission;
      break;
    case MmuFault.ExternalAbortOnWalk:
      f.kind = SmmuFault.WalkExternalAbort;
      f.source = SmmuFaultSource.TableWalk;
      f.record = true;
      break;
    case MmuFault.ExternalAbort:
      // The walker never reports an abort on the access itself; the SMMU's DMA path does.
      f.kind = SmmuFault.WalkExternalAbort;
      f.record = true;
      break;
    case MmuFault.Gpc:
      f.kind = SmmuFault.Gpc;
      f.gpc = out.gpc;
      f.pa = out.faultPa;
      f.source = out.s1ptw ? SmmuFaultSource.TableWalk : SmmuFaultSource.Transaction;
      f.record = out.s1ptw;
      break;
    case MmuFault.None:
      assert(false, 'walkFault called without a fault');
  }
  return f;
}

/**
 * The event a fault produces. GPC faults on SMMU fetches are reported as the matching fetch abort
 * (F_STE_FETCH / F_CD_FETCH / F_WALK_EABT); a GPF on the transaction itself produces no
 * Non-secure event, only SMMU_ROOT_GPF_FAR ([UNCONFIRMED]: spec §6 leaves GPF reporting open).
 */
function eventFor(f: PendingFault): number {
  switch (f.kind) {
    case SmmuFault.BadStreamId:
      return SmmuEvent.C_BAD_STREAMID;
    case SmmuFault.SteFetch:
      return SmmuEvent.F_STE_FETCH;
    case SmmuFault.BadSte:
      return SmmuEvent.C_BAD_STE;
    case SmmuFault.CdFetch:
      return SmmuEvent.F_CD_FETCH;
    case SmmuFault.BadCd:
      return SmmuEvent.C_BAD_CD;
    case SmmuFault.Translation:
      return SmmuEvent.F_TRANSLATION;
    case SmmuFault.AddressSize:
      return SmmuEvent.F_ADDR_SIZE;
    case SmmuFault.AccessFlag:
      return SmmuEvent.F_ACCESS;
    case SmmuFault.Permission:
      return SmmuEvent.F_PERMISSION;
    case SmmuFault.WalkExternalAbort:
      return SmmuEvent.F_WALK_EABT;
    case SmmuFault.Gpc:
      return f.source === SmmuFaultSource.Ste
        ? SmmuEvent.F_STE_FETCH
        : f.source === SmmuFaultSource.Cd
          ? SmmuEvent.F_CD_FETCH
          : f.source === SmmuFaultSource.TableWalk
            ? SmmuEvent.F_WALK_EABT
            : SmmuEvent.None;
    case SmmuFault.Terminated:
    case SmmuFault.ExternalAbort:
      return SmmuEvent.None;
  }
}

/** One-line description of a fault record, for logs and CLIs. */
export function describeSmmuFault(record: SmmuFaultRecord): string {
  const parts = [
    `stream ${record.streamId}`,
    `${record.write ? 'write' : 'read'} iova 0x${record.iova.toString(16)}`,
    `${SMMU_FAULT_NAMES[record.kind]} on ${SMMU_FAULT_SOURCE_NAMES[record.source]}`,
  ];
  if (record.kind !== SmmuFault.Gpc && record.level !== 0) parts.push(`level ${record.level}`);
  if (record.pa !== undefined) parts.push(`pa 0x${record.pa.toString(16)} (${PAS_NAMES[record.pas]})`);
  if (record.gpc !== GPC_OK) {
    parts.push(`${GPC_FAULT_NAMES[gpcFaultKind(record.gpc)]} at GPT level ${gpcFaultLevel(record.gpc)}`);
  }
  return parts.join(', ');
}
