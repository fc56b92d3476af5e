/**
 * I/O and IPC calls of the mini-OS (spec/rcontainer.md; DESIGN.md §4 "I/O"): rc_set_iopte,
 * rc_ipc_in, rc_ipc_out, and the rcontainer extensions rc_seal_block, rc_open_block,
 * rc_storage_attach and rc_attest. Register layouts and results are documented in abi.ts.
 *
 * Every handler validates all arguments (overflow-safe; the gate already copied the registers, and
 * memory arguments are copied into the mini-OS before they are checked), decides everything before
 * it changes anything, and returns an RcError on refusal with nothing changed.
 *
 * ## Who speaks for whom
 * EL3 hands the gate the GPT view the caller ran under (x10), which the caller cannot forge. A call
 * that moves plaintext into or out of container c's memory, or that gives c's consent, must come
 * from c's context (the kernel serving c under shim-GPT(c)); the host endpoint speaks from the OS
 * context. So the OS-context kernel can never make the mini-OS decrypt a container's data into OS
 * memory, or consent for a container to share its memory.
 *
 * ## State and where it lives
 * * MINI memory (from minios.heap, in 128-byte slots of a small slab, written through the linear-map
 *   port): the DRBG state (crypto/drbg.ts, 80 bytes) and the per-boot IPC salt (32 bytes); one IPC
 *   channel state per channel end (crypto/ipc.ts, 128 bytes); one storage context per container with
 *   a disk (crypto/storage.ts, 128 bytes: block key, freshness root). Slots are scrubbed when freed.
 * * SHIM(c), its last granule (the "I/O record page"): rc_ipc_in registrations of c,
 *   layout {@link IoPage}.
 * * PT(os) granules taken from the OS: every SMMU stream's context descriptor and I/O page tables.
 * * OS memory: the version tree of each container disk (untrusted; every path is checked against
 *   the root in MINI memory), frames and sealed records (ciphertext only).
 * * Host objects: the mini-OS's index into the above (which slot belongs to which channel, which PA
 *   is a stream's table), never a container's plaintext or a key. Per-container entries remember the
 *   ContainerRecord they were made for, so an entry of a container that is gone is never used again
 *   and is dropped by {@link forgetIo}.
 */
import { decodeBootInfo, type BootInfo } from '../firmware/boot-info.js';
import { miniosAttestationKey, type AttestationKey } from '../firmware/attestation.js';
import { Ev } from '../hw/cost.js';
import { leafDescriptor } from '../hw/layout.js';
import { SmmuBits, SmmuCmd, SmmuReg } from '../hw/smmu.js';
import { IoPerm, IPC_OPEN_FIN, IpcFlag, IpcOutOp, MAX_CONTAINER_ID, Owner, RcCall, RcError } from './abi.js';
import type { CallContext, CallHandler, CallOutcome } from './calls.js';
import { osMappings } from './calls-memory.js';
import type { ContainerRecord } from './containers.js';
import { ShimPage } from './containers.js';
import { measurementChainOf, signReport, type Measurement } from './crypto/attestation.js';
import { asciiBytes, concatBytes, readU32, writeU32, writeU64 } from './crypto/bytes.js';
import { DRBG_STATE_BYTES, drbgGenerate, drbgInstantiate } from './crypto/drbg.js';
import {
  decodeIpcFrameHeader,
  initIpcChannel,
  IPC_CHANNEL_STATE_BYTES,
  IPC_MAX_PAYLOAD,
  ipcFrameBytes,
  ipcOpen,
  ipcSeal,
  type IpcError,
} from './crypto/ipc.js';
import { BOOT_SALT_BYTES } from './crypto/keys.js';
import { hmacSha256 } from './crypto/primitives.js';
import {
  initStorage,
  openBlock,
  SEALED_BLOCK_BYTES,
  sealBlock,
  STORAGE_BLOCK_BYTES,
  STORAGE_CONTEXT_BYTES,
  STORAGE_MAX_BLOCKS,
  storageTreeBytes,
  storageWork,
  type StorageError,
  type VersionTreeStore,
} from './crypto/storage.js';
import type { MiniOs } from './minios.js';
import type { LinearMapPort } from './port.js';

// ------------------------------------------------------------------ limits and layouts

const GRANULE = 4096;
const PA_LIMIT = 2 ** 52;
/** rc_set_iopte: IOVAs are TTB0 addresses of a 48-bit, 4 KiB-granule regime. */
const IOVA_LIMIT = 2 ** 48;
/** rc_set_iopte: most pool granules one call may be offered (a first mapping takes 5). */
const MAX_POOL_GRANULES = 8;
/** The mini-OS gives stream s the ASID s, so it serves StreamIDs below 2^16. */
const MAX_STREAMS = 2 ** 16;
const MAX_REGION_GRANULES = 1024;
const MAX_SHARE_GRANULES = 256;
const MAX_CHANNELS = 4096;
const MAX_SHARES = 1024;
/** Bytes of a MINI slot: the largest record kept there (channel state, storage context). */
const SLOT_BYTES = 128;
/** Bytes of one SMMU command-queue entry. */
const CMD_BYTES = 16;
const CMDQ_MAX_LOG2 = 19;

/**
 * Layout of the I/O record page (the last granule of SHIM(c)), little-endian:
 * magic "RCIO" u32 at 0, entry count u32 at 4, reserved to 16; then `count` entries of 32 bytes:
 * region id u32, task A u32, task B u32, granule count u32, PA u64, reserved 8.
 */
export const IoPage = { magic: 0, count: 4, entries: 16, entryBytes: 32, maxEntries: 127 } as const;
const IO_PAGE_MAGIC = 0x4f49_4352; // 'RCIO' little-endian

/** Counters of the I/O calls. */
export interface IoStats {
  ioMappings: number;
  ioUnmappings: number;
  smmuInvalidations: number;
  framesSealed: number;
  framesOpened: number;
  blocksSealed: number;
  blocksOpened: number;
  reports: number;
  cryptoRefusals: number;
}

// ------------------------------------------------------------------ per-machine state

/** An SMMU stream whose CD and tables the mini-OS owns. */
interface IoStream {
  /** PA of the CD page (its first 64 bytes are the CD). */
  readonly cd: number;
  /** PA of the L0 table. */
  readonly root: number;
  /** Level l ≥ 1 table covering IOVA prefix p (= iova / 2^(48 - 9l)), keyed l·2^36 + p → PA. */
  readonly tables: Map<number, number>;
}

/** A container disk: its storage context lives in a MINI slot, its version tree in OS memory. */
interface StorageDisk {
  readonly record: ContainerRecord;
  readonly context: number;
  readonly treePa: number;
  readonly treeBytes: number;
  readonly blockCount: number;
}

/** An rc_ipc_out channel between two endpoints (0 = host). */
interface Channel {
  readonly id: number;
  readonly offerer: number;
  readonly peer: number;
  /** Container records of the container endpoints, as they were at the offer. */
  readonly records: Map<number, ContainerRecord>;
  /** Endpoint → PA of its channel state slot (both present once accepted). */
  readonly states: Map<number, number>;
}

/** Cross-container shared memory: granules of `owner` offered to (and maybe accepted by) `peer`. */
interface Share {
  readonly id: number;
  readonly owner: number;
  readonly peer: number;
  readonly ownerRecord: ContainerRecord;
  readonly peerRecord: ContainerRecord;
  readonly granules: readonly number[];
  accepted: boolean;
}

/** A registered rc_ipc_in region. */
export interface IpcInRegion {
  readonly id: number;
  readonly tidA: number;
  readonly tidB: number;
  readonly pa: number;
  readonly count: number;
}

interface RegionTable {
  readonly record: ContainerRecord;
  readonly regions: Map<number, IpcInRegion>;
  nextId: number;
}

/** What the mini-OS learned about the SMMU through its register page. */
interface SmmuWindow {
  /** PA of the register window (mapped in the mini-OS's linear map). */
  readonly base: number;
  /** StreamIDs served: min(2^SMMU_IDR1.SIDSIZE, 2^16). */
  readonly streams: number;
  /** SMMU_IDR5.OAS, used as CD.IPS. */
  readonly ips: number;
}

/** 128-byte slots of MINI memory, in 4 KiB heap blocks returned when empty. */
class MiniSlab {
  private readonly free = new Set<number>();
  private readonly used = new Map<number, number>();

  allocate(minios: MiniOs, port: LinearMapPort): number | undefined {
    if (this.free.size === 0) {
      const page = minios.heap.allocate(GRANULE);
      if (page === undefined) return undefined;
      this.used.set(page, 0);
      for (let at = page; at < page + GRANULE; at += SLOT_BYTES) this.free.add(at);
    }
    const slot = this.free.values().next().value as number;
    if (!port.fill(slot, SLOT_BYTES, 0)) return undefined;
    this.free.delete(slot);
    const page = slot - (slot % GRANULE);
    this.used.set(page, this.used.get(page)! + 1);
    return slot;
  }

  /** Scrub and release a slot (and its page once the page is empty). */
  release(minios: MiniOs, port: LinearMapPort, slot: number): void {
    port.fill(slot, SLOT_BYTES, 0);
    this.free.add(slot);
    const page = slot - (slot % GRANULE);
    const count = this.used.get(page)! - 1;
    if (count > 0) {
      this.used.set(page, count);
      return;
    }
    this.used.delete(page);
    for (let at = page; at < page + GRANULE; at += SLOT_BYTES) this.free.delete(at);
    minios.heap.freeBlock(page, GRANULE);
  }
}

interface IoState {
  readonly minios: MiniOs;
  /** The mini-OS's port (one object, pointed by the gate at the PE that entered). */
  port: LinearMapPort;
  readonly slab: MiniSlab;
  /** MINI slots of the DRBG state and of the per-boot IPC salt. */
  random: { readonly drbg: number; readonly salt: number } | undefined;
  boot: BootInfo | undefined;
  smmu: SmmuWindow | undefined;
  attestationKey: AttestationKey | undefined;
  readonly streams: Map<number, IoStream>;
  /** Granule indices of PT(os) granules that are I/O tables or CDs. */
  readonly ioTables: Set<number>;
  readonly disks: Map<number, StorageDisk>;
  readonly channels: Map<number, Channel>;
  nextChannel: number;
  readonly shares: Map<number, Share>;
  /** Granule index → share id, for every granule of a pending or accepted share. */
  readonly shareOf: Map<number, number>;
  nextShare: number;
  readonly regions: Map<number, RegionTable>;
  readonly stats: IoStats;
}

const states = new WeakMap<MiniOs, IoState>();
/** Every state, weakly, so that {@link forgetIo}(cid) can find stale entries without a mini-OS. */

function stateOf(context: CallContext): IoState {
  let state = states.get(context.minios);
  if (state === undefined) {
    state = {
      minios: context.minios,
      port: context.port,
      slab: new MiniSlab(),
      random: undefined,
      boot: undefined,
      smmu: undefined,
      attestationKey: undefined,
      streams: new Map(),
      ioTables: new Set(),
      disks: new Map(),
      channels: new Map(),
      nextChannel: 1,
      shares: new Map(),
      shareOf: new Map(),
      nextShare: 1,
      regions: new Map(),
      stats: {
        ioMappings: 0,
        ioUnmappings: 0,
        smmuInvalidations: 0,
        framesSealed: 0,
        framesOpened: 0,
        blocksSealed: 0,
        blocksOpened: 0,
        reports: 0,
        cryptoRefusals: 0,
      },
    };
    states.set(context.minios, state);
  }
  state.port = context.port;
  return state;
}

// ------------------------------------------------------------------ registry and public helpers

/** Handlers by call number. */
export const IO_CALLS: Readonly<Record<number, CallHandler>> = {
  [RcCall.SetIopte]: setIopte,
  [RcCall.IpcIn]: ipcIn,
  [RcCall.IpcOut]: ipcOut,
  [RcCall.SealBlock]: (context, args) => blockCall(context, args, 'seal'),
  [RcCall.OpenBlock]: (context, args) => blockCall(context, args, 'open'),
  [RcCall.StorageAttach]: storageAttach,
  [RcCall.Attest]: attest,
};

/**
 * Forget what this module keeps about container `cid` of `minios` whose shim is gone: its disk,
 * the channels and shares it takes part in (shared granules go back to the offering container), its
 * rc_ipc_in regions. MINI slots are scrubbed before they are freed.
 */
export function forgetIo(minios: MiniOs, cid: number): void {
  const state = states.get(minios);
  if (state !== undefined) sweep(state, cid);
}

/** Counters of the I/O calls of `minios` (zeros before its first I/O call). */
export function ioStats(minios: MiniOs): Readonly<IoStats> {
  return (
    states.get(minios)?.stats ?? {
      ioMappings: 0,
      ioUnmappings: 0,
      smmuInvalidations: 0,
      framesSealed: 0,
      framesOpened: 0,
      blocksSealed: 0,
      blocksOpened: 0,
      reports: 0,
      cryptoRefusals: 0,
    }
  );
}

/**
 * True when granule `index` is a PT(os) granule holding an SMMU CD or I/O table of the mini-OS.
 * rc_set_pte must refuse table descriptors to it and writable mappings of it (it is not one of the
 * kernel's own page-table pages).
 */
export function isIoTableGranule(minios: MiniOs, index: number): boolean {
  return states.get(minios)?.ioTables.has(index) ?? false;
}

/** Containers a Shared granule at `pa` is open to (empty if it is not a live shared granule). */
export function sharedMembers(minios: MiniOs, pa: number): readonly number[] {
  const state = states.get(minios);
  const index = minios.ownership.indexOf(pa);
  if (state === undefined || index < 0 || minios.ownership.kindOf(index) !== Owner.Shared) return [];
  const share = state.shares.get(state.shareOf.get(index) ?? 0);
  return share?.accepted === true ? [share.owner, share.peer] : [];
}

/** Live rc_ipc_in regions of container `cid` that task `tid` takes part in. */
export function ipcInRegions(minios: MiniOs, cid: number, tid: number): readonly IpcInRegion[] {
  const state = states.get(minios);
  const table = state?.regions.get(cid);
  if (state === undefined || table === undefined || minios.containers.get(cid) !== table.record) return [];
  return [...table.regions.values()].filter(
    (r) =>
      (r.tidA === tid || r.tidB === tid) && table.record.tasks.has(r.tidA) && table.record.tasks.has(r.tidB),
  );
}

// ------------------------------------------------------------------ common checks

function fail(result: RcError): CallOutcome {
  return { result };
}

function ok(result = 0): CallOutcome {
  return { result };
}

function isCid(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 1 && value <= MAX_CONTAINER_ID;
}

/** An rc_ipc_out endpoint: 0 (host) or a container id. */
function isEndpoint(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0 && value <= MAX_CONTAINER_ID;
}

function isAddress(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0 && value < PA_LIMIT;
}

/** True when the caller ran under `endpoint`'s view: the OS-GPT for 0, shim-GPT(c) for c. */
function speaksFor({ minios, callerView }: CallContext, endpoint: number): boolean {
  if (endpoint === 0) return callerView === minios.views.osL0;
  const record = minios.containers.get(endpoint);
  return record !== undefined && record.view === callerView;
}

/**
 * Every granule of [pa, pa + length) is DRAM and accepted by `accept`; false for an empty or
 * overflowing range.
 */
function rangeOwned(
  minios: MiniOs,
  pa: number,
  length: number,
  accept: (kind: Owner, container: number, index: number) => boolean,
): boolean {
  if (!isAddress(pa) || !Number.isSafeInteger(length) || length < 1 || pa + length > PA_LIMIT) return false;
  const own = minios.ownership;
  for (let at = pa - (pa % GRANULE); at < pa + length; at += GRANULE) {
    const index = own.indexOf(at);
    if (index < 0 || !accept(own.kindOf(index), own.containerOf(index), index)) return false;
  }
  return true;
}

const isOs = (kind: Owner): boolean => kind === Owner.Os;

/** A range of OS-owned DRAM (an "OS buffer"). */
function osRange(minios: MiniOs, pa: number, length: number): boolean {
  return rangeOwned(minios, pa, length, isOs);
}

/**
 * A range of `endpoint`'s memory: an OS buffer for the host; else CTR(c) granules, SHIM(c)
 * granules the kernel gave for its data (never the mini-OS's own con-shim pages: records, contexts,
 * window tables) and Shared granules open to c.
 */
function endpointRange(state: IoState, endpoint: number, pa: number, length: number): boolean {
  if (endpoint === 0) return osRange(state.minios, pa, length);
  return rangeOwned(state.minios, pa, length, (kind, container, index) => {
    if (kind === Owner.Ctr) return container === endpoint;
    if (kind === Owner.Shim) return container === endpoint && kernelData(state.minios, endpoint, index);
    return kind === Owner.Shared && sharedWith(state, index, endpoint);
  });
}

/** A SHIM(cid) granule the kernel gave with rc_malloc_mm (its data: page cache, buffers). */
function kernelData(minios: MiniOs, cid: number, index: number): boolean {
  return minios.containers.get(cid)?.shimFromOs.has(index) === true;
}

function sharedWith(state: IoState, index: number, cid: number): boolean {
  const share = state.shares.get(state.shareOf.get(index) ?? 0);
  return share !== undefined && share.accepted && (share.owner === cid || share.peer === cid);
}

/** The live record of container `cid` the entry was made for, or undefined when it is gone. */
function current(minios: MiniOs, cid: number, record: ContainerRecord): boolean {
  return minios.containers.get(cid) === record;
}

// ------------------------------------------------------------------ MINI-memory helpers

function writeSlot(state: IoState, slot: number, bytes: Uint8Array): boolean {
  return state.port.writeBytes(slot, bytes);
}

function readSlot(state: IoState, slot: number, length: number): Uint8Array | undefined {
  return state.port.readBytes(slot, length);
}

/** The firmware's boot information, read and checked from its granule at the end of the MINI region. */
function bootInfo(state: IoState): BootInfo | undefined {
  if (state.boot !== undefined) return state.boot;
  const region = state.minios.boot.miniRegion;
  // firmware/layout.ts: bootInfoPa = minios.base + minios.size - one granule.
  const bytes = state.port.readBytes(region.base + region.size - GRANULE, GRANULE);
  state.boot = bytes === undefined ? undefined : decodeBootInfo(bytes);
  return state.boot;
}

/**
 * `length` bytes from the mini-OS's HMAC_DRBG, whose state lives in a MINI slot (committed before
 * the bytes are used). SIMPLIFICATION: the model has no entropy source (DESIGN.md §8), so the DRBG
 * is instantiated from the sealing root and the boot chain: the same machine seed gives the same
 * bytes, where a board would mix in a TRNG.
 */
function randomBytes(state: IoState, length: number): Uint8Array | undefined {
  const random = randomSlots(state);
  if (random === undefined) return undefined;
  const current = readSlot(state, random.drbg, DRBG_STATE_BYTES);
  if (current === undefined) return undefined;
  const out = drbgGenerate(current, length);
  if (!out.ok || !writeSlot(state, random.drbg, out.state)) return undefined;
  return out.bytes;
}

function randomSlots(state: IoState): { drbg: number; salt: number } | undefined {
  if (state.random !== undefined) return state.random;
  const boot = bootInfo(state);
  if (boot === undefined) return undefined;
  const drbg = state.slab.allocate(state.minios, state.port);
  if (drbg === undefined) return undefined;
  const salt = state.slab.allocate(state.minios, state.port);
  if (salt === undefined) {
    state.slab.release(state.minios, state.port, drbg);
    return undefined;
  }
  const entropy = hmacSha256(state.minios.boot.sealingRoot, asciiBytes('rcontainer mini-OS DRBG entropy'));
  const initial = drbgInstantiate(entropy, boot.bootChain, asciiBytes('rcontainer mini-OS I/O'));
  state.random = { drbg, salt };
  writeSlot(state, drbg, initial);
  const bytes = randomBytes(state, BOOT_SALT_BYTES);
  if (bytes === undefined || !writeSlot(state, salt, bytes)) {
    state.slab.release(state.minios, state.port, drbg);
    state.slab.release(state.minios, state.port, salt);
    state.random = undefined;
    return undefined;
  }
  return state.random;
}

// ------------------------------------------------------------------ rc_set_iopte

/**
 * The SMMU's Non-secure register page, mapped (on first use) into the mini-OS's linear map at
 * linearBase + PA like DRAM, so the mini-OS reads IDR1/IDR5 and drives the command queue as a
 * driver would. The new tables come from the MINI heap (closed in every other view).
 * SIMPLIFICATION: done lazily here; boot (minios.ts) is the natural place.
 */
function smmuWindow(state: IoState): SmmuWindow | undefined {
  if (state.smmu !== undefined) return state.smmu;
  const boot = bootInfo(state);
  if (boot === undefined || !mapDevicePage(state, boot.smmuBase)) return undefined;
  const port = state.port;
  const base = boot.smmuBase;
  const sidBits = port.read32(base + SmmuReg.IDR1) & 0x3f;
  const ips = port.read32(base + SmmuReg.IDR5) & 7;
  state.smmu = { base, streams: Math.min(2 ** sidBits, MAX_STREAMS), ips };
  return state.smmu;
}

/** Map the 4 KiB device page at `pa` into the linear map (EL1 RW, never executable). */
function mapDevicePage(state: IoState, pa: number): boolean {
  const { minios, port } = state;
  const linearBase = minios.params.linearBase;
  const va = linearBase + pa;
  let table = minios.kernelRoot;
  for (let level = 0; level < 3; level++) {
    const at = table + 8 * (Math.floor((va + 2 ** 48) / 2 ** (39 - 9 * level)) % 512);
    const low = port.read32(at);
    const high = port.read32(at + 4);
    if ((low & 3) === 1) return true; // a block of the linear map already covers it
    if ((low & 3) === 3) {
      table = ((low & 0xffff_f000) >>> 0) + (high & 0xffff) * 2 ** 32;
      continue;
    }
    if (level === 0) return false; // the linear map's L0 entry is the mini-OS's: always present
    const next = minios.heap.allocate(GRANULE);
    if (next === undefined) return false;
    if (
      !port.fill(next, GRANULE, 0) ||
      !port.write64(at, ((next % 2 ** 32) | 3) >>> 0, Math.floor(next / 2 ** 32))
    ) {
      return false;
    }
    table = next;
  }
  const leaf = table + 8 * (Math.floor((va + 2 ** 48) / GRANULE) % 512);
  return port.write64(leaf, ...leafDescriptor(pa, { ap: 0, pxn: true, uxn: true }, 3));
}

function tableKey(level: number, iova: number): number {
  return level * 2 ** 36 + Math.floor(iova / 2 ** (48 - 9 * level));
}

function entryAt(table: number, level: number, iova: number): number {
  return table + 8 * (Math.floor(iova / 2 ** (39 - 9 * level)) % 512);
}

/** A plan to invalidate one IOVA through the command queue, checked before anything changes. */
type Invalidation =
  | { readonly kind: 'none' }
  | { readonly kind: 'queue'; base: number; prod: number; entries: number; wrapMask: number };

/**
 * Decide how to invalidate the SMMU TLB after a change of a valid leaf. SMMU_CR0.SMMUEN = 0: no
 * stage-1 translation is in use (the kernel issues CMD_TLBI_NSNH_ALL before enabling, as SMMUv3
 * drivers do at reset). Otherwise the command queue must be enabled, running and have room for two
 * commands in OS memory.
 */
function planInvalidation(state: IoState, smmu: SmmuWindow): Invalidation | RcError {
  const port = state.port;
  const cr0 = port.read32(smmu.base + SmmuReg.CR0);
  if ((cr0 & SmmuBits.CR0_SMMUEN) === 0) return { kind: 'none' };
  if ((cr0 & SmmuBits.CR0_CMDQEN) === 0) return RcError.EBUSY;
  const gerror = port.read32(smmu.base + SmmuReg.GERROR) ^ port.read32(smmu.base + SmmuReg.GERRORN);
  if ((gerror & SmmuBits.GERROR_CMDQ_ERR) !== 0) return RcError.EBUSY;
  const low = port.read32(smmu.base + SmmuReg.CMDQ_BASE);
  const high = port.read32(smmu.base + SmmuReg.CMDQ_BASE + 4);
  const entries = 2 ** Math.min(low & 0x1f, CMDQ_MAX_LOG2);
  const wrapMask = entries * 2 - 1;
  const base = ((low & 0xffff_ffe0) >>> 0) + (high & 0xfffff) * 2 ** 32;
  const prod = port.read32(smmu.base + SmmuReg.CMDQ_PROD) & wrapMask;
  const cons = port.read32(smmu.base + SmmuReg.CMDQ_CONS) & wrapMask;
  const used = (prod - cons + 2 * entries) % (2 * entries);
  if (entries - used < 2) return RcError.EBUSY;
  // The mini-OS writes the queue through its linear map: only into OS memory (never into a granule
  // the kernel pointed the queue at to have the mini-OS write it for it).
  for (const n of [0, 1]) {
    if (!osRange(state.minios, base + ((prod + n) & (entries - 1)) * CMD_BYTES, CMD_BYTES))
      return RcError.EPERM;
  }
  return { kind: 'queue', base, prod, entries, wrapMask };
}

/** CMD_TLBI_NH_VA(asid, iova) and CMD_SYNC through the planned queue; false if the SMMU did not take them. */
function invalidate(
  state: IoState,
  smmu: SmmuWindow,
  plan: Invalidation,
  asid: number,
  iova: number,
): boolean {
  if (plan.kind === 'none') return true;
  const port = state.port;
  const commands = [
    [SmmuCmd.TLBI_NH_VA, (asid << 16) >>> 0, (iova % 2 ** 32) & 0xffff_f000, Math.floor(iova / 2 ** 32)],
    [SmmuCmd.CMD_SYNC, 0, 0, 0],
  ];
  commands.forEach((words, n) => {
    const slot = plan.base + ((plan.prod + n) & (plan.entries - 1)) * CMD_BYTES;
    words.forEach((word, w) => port.write32(slot + 4 * w, word >>> 0));
  });
  const prod = (plan.prod + 2) & plan.wrapMask;
  port.write32(smmu.base + SmmuReg.CMDQ_PROD, prod);
  const cons = port.read32(smmu.base + SmmuReg.CMDQ_CONS);
  state.stats.smmuInvalidations++;
  return (cons & plan.wrapMask) === prod && ((cons >>> 24) & 0x7f) === 0;
}

/** rc_set_iopte(stream, iova, pa, perms, poolPa, poolCount): see abi.ts. */
function setIopte(context: CallContext, args: readonly number[]): CallOutcome {
  const [stream = 0, iova = 0, pa = 0, perms = 0, poolPa = 0, poolCount = 0] = args;
  const state = stateOf(context);
  const { minios, port, pe } = context;
  const own = minios.ownership;
  if (!Number.isSafeInteger(stream) || stream < 0 || stream >= MAX_STREAMS) return fail(RcError.EINVAL);
  if (!Number.isSafeInteger(iova) || iova < 0 || iova >= IOVA_LIMIT || iova % GRANULE !== 0) {
    return fail(RcError.EINVAL);
  }
  const unmap = perms === 0;
  if (!unmap && perms !== IoPerm.Read && perms !== (IoPerm.Read | IoPerm.Write)) return fail(RcError.EINVAL);
  if (unmap ? pa !== 0 : !isAddress(pa) || pa % GRANULE !== 0) return fail(RcError.EINVAL);
  const smmu = smmuWindow(state);
  if (smmu === undefined) return fail(RcError.ENOMEM);
  if (stream >= smmu.streams) return fail(RcError.EINVAL);
  // The target: a page of OS-owned DRAM, nothing else (not MMIO, not any protected owner).
  if (!unmap && own.kindAt(pa) !== Owner.Os) return fail(RcError.EPERM);

  const existing = state.streams.get(stream);
  const missing: number[] = []; // levels 1..3 whose table must be made
  for (let level = 1; level <= 3; level++) {
    if (existing?.tables.get(tableKey(level, iova)) === undefined) missing.push(level);
  }
  const needed = (existing === undefined ? 2 : 0) + missing.length;
  const leafTable = existing?.tables.get(tableKey(3, iova));
  const leafPa = leafTable === undefined ? undefined : entryAt(leafTable, 3, iova);
  const oldValid = leafPa !== undefined && (port.read32(leafPa) & 1) === 1;
  if (unmap && !oldValid) return fail(RcError.ENOENT);

  const pool: number[] = [];
  if (!unmap && needed > 0) {
    if (!Number.isSafeInteger(poolCount) || poolCount < 1 || poolCount > MAX_POOL_GRANULES)
      return fail(RcError.EINVAL);
    if (!isAddress(poolPa) || poolPa % GRANULE !== 0 || poolPa + poolCount * GRANULE > PA_LIMIT) {
      return fail(RcError.EINVAL);
    }
    if (poolCount < needed) return fail(RcError.ENOMEM);
    for (let i = 0; i < needed; i++) {
      const index = own.indexOf(poolPa + i * GRANULE);
      if (index < 0 || own.kindOf(index) !== Owner.Os) return fail(RcError.EPERM);
      // A page the kernel can write, or a host process maps, must not become an I/O page table.
      if (osMappings(minios, poolPa + i * GRANULE) > 0) return fail(RcError.EBUSY);
      pool.push(index);
    }
    // A device must never reach its own page tables.
    if (pa >= poolPa && pa < poolPa + needed * GRANULE) return fail(RcError.EPERM);
  }
  const plan = oldValid ? planInvalidation(state, smmu) : ({ kind: 'none' } as const);
  if (typeof plan === 'number') return fail(plan);

  // Everything is checked: act.
  for (const index of pool) minios.scrub(port, index);
  if (pool.length > 0 && !minios.transfer(pe, pool, Owner.PtOs, 0)) return fail(RcError.ENOMEM);
  for (const index of pool) state.ioTables.add(index);
  const fresh = pool.map((index) => own.paOf(index));
  let io = existing;
  if (io === undefined) {
    io = { cd: fresh.shift()!, root: fresh.shift()!, tables: new Map() };
    writeContextDescriptor(port, io, smmu, stream);
    state.streams.set(stream, io);
  }
  for (const level of missing) {
    const table = fresh.shift()!;
    const parent = level === 1 ? io.root : io.tables.get(tableKey(level - 1, iova))!;
    port.write64(
      entryAt(parent, level - 1, iova),
      ((table % 2 ** 32) | 3) >>> 0,
      Math.floor(table / 2 ** 32),
    );
    io.tables.set(tableKey(level, iova), table);
  }
  const leaf = entryAt(io.tables.get(tableKey(3, iova))!, 3, iova);
  const before: [number, number] = [port.read32(leaf), port.read32(leaf + 4)];
  const after: [number, number] = unmap
    ? [0, 0]
    : leafDescriptor(pa, { ap: perms & IoPerm.Write ? 1 : 3, pxn: true, uxn: true, notGlobal: true }, 3);
  port.write64(leaf, ...after);
  if (!invalidate(state, smmu, plan, stream, iova)) {
    port.write64(leaf, ...before);
    return fail(RcError.EBUSY);
  }
  if (unmap) state.stats.ioUnmappings++;
  else state.stats.ioMappings++;
  return ok(pool.length);
}

/**
 * The stream's CD (SMMUv3 field positions, smmu.ts "Reduced CD"): T0SZ = 16 (48-bit IOVAs), TG0 =
 * 4 KiB, EPD1 (no TTB1 range), V; IPS = SMMU_IDR5.OAS, AA64, R (record faults), ASID = stream;
 * TTB0 = the stream's L0 table.
 */
function writeContextDescriptor(port: LinearMapPort, io: IoStream, smmu: SmmuWindow, asid: number): void {
  port.fill(io.cd, 64, 0);
  port.write64(
    io.cd,
    (16 | (1 << 30) | (1 << 31)) >>> 0,
    (smmu.ips | (1 << 9) | (1 << 13) | (asid << 16)) >>> 0,
  );
  port.write64(io.cd + 8, io.root % 2 ** 32, Math.floor(io.root / 2 ** 32));
}

// ------------------------------------------------------------------ rc_ipc_in

/** The rc_ipc_in table of a container, pruned of regions whose tasks are gone. */
function regionTable(state: IoState, cid: number, record: ContainerRecord): RegionTable {
  let table = state.regions.get(cid);
  if (table === undefined || table.record !== record) {
    table = { record, regions: new Map(), nextId: 1 };
    state.regions.set(cid, table);
  }
  for (const [id, region] of table.regions) {
    if (!record.tasks.has(region.tidA) || !record.tasks.has(region.tidB)) table.regions.delete(id);
  }
  return table;
}

/** Rewrite the I/O record page of SHIM(c) from the table. */
function writeIoPage(state: IoState, table: RegionTable): boolean {
  const page = new Uint8Array(GRANULE);
  writeU32(page, IoPage.magic, IO_PAGE_MAGIC);
  writeU32(page, IoPage.count, table.regions.size);
  let at = IoPage.entries;
  for (const region of table.regions.values()) {
    writeU32(page, at, region.id);
    writeU32(page, at + 4, region.tidA);
    writeU32(page, at + 8, region.tidB);
    writeU32(page, at + 12, region.count);
    writeU64(page, at + 16, region.pa);
    at += IoPage.entryBytes;
  }
  const record = table.record;
  return state.port.writeBytes(state.minios.ownership.paOf(record.shim[ShimPage.io]!), page);
}

/** rc_ipc_in(cid, tidA, tidB, pa, count) / rc_ipc_in(cid, 0, regionId): see abi.ts. */
function ipcIn(context: CallContext, args: readonly number[]): CallOutcome {
  const [cid = 0, tidA = 0, tidB = 0, pa = 0, count = 0] = args;
  const state = stateOf(context);
  const { minios } = context;
  if (!isCid(cid)) return fail(RcError.EINVAL);
  const record = minios.containers.get(cid);
  if (record === undefined) return fail(RcError.ENOENT);
  if (!speaksFor(context, 0) && !speaksFor(context, cid)) return fail(RcError.EPERM);
  const table = regionTable(state, cid, record);
  if (tidA === 0) {
    if (!table.regions.has(tidB)) return fail(RcError.ENOENT);
    table.regions.delete(tidB);
    writeIoPage(state, table);
    return ok();
  }
  if (!Number.isSafeInteger(tidA) || !Number.isSafeInteger(tidB) || tidA < 1 || tidB < 1 || tidA === tidB) {
    return fail(RcError.EINVAL);
  }
  // Both tasks must be tasks of c (a task id of another container, or of none, is refused).
  if (!record.tasks.has(tidA) || !record.tasks.has(tidB)) return fail(RcError.EPERM);
  if (!Number.isSafeInteger(count) || count < 1 || count > MAX_REGION_GRANULES) return fail(RcError.EINVAL);
  if (!isAddress(pa) || pa % GRANULE !== 0 || pa + count * GRANULE > PA_LIMIT) return fail(RcError.EINVAL);
  if (
    !rangeOwned(minios, pa, count * GRANULE, (kind, container) => kind === Owner.Ctr && container === cid)
  ) {
    return fail(RcError.EPERM);
  }
  if (table.regions.size >= IoPage.maxEntries || table.nextId > 0xffff_ffff) return fail(RcError.ENOMEM);
  const region: IpcInRegion = { id: table.nextId, tidA, tidB, pa, count };
  table.regions.set(region.id, region);
  if (!writeIoPage(state, table)) {
    table.regions.delete(region.id);
    return fail(RcError.ENOMEM);
  }
  table.nextId++;
  return ok(region.id);
}

// ------------------------------------------------------------------ rc_ipc_out

/** Map an IPC library refusal to an error result. */
function ipcError(error: IpcError): RcError {
  switch (error.kind) {
    case 'BadState':
      return RcError.EINVAL; // a mini-OS bug: its own state bytes are not a state
    case 'TooLarge':
      return RcError.EINVAL;
    case 'Closed':
      return RcError.EPIPE;
    case 'SequenceExhausted':
      return RcError.EOVERFLOW;
    case 'Truncated':
    case 'Malformed':
    case 'WrongChannel':
    case 'Reflected':
    case 'AuthFailed':
      return RcError.EBADMSG;
    case 'Replay':
      return RcError.ESTALE;
    case 'OutOfOrder':
      return RcError.EPROTO;
  }
}

/** The channel `id` if all its container endpoints are still the containers it was made for. */
function liveChannel(state: IoState, id: number): Channel | undefined {
  const channel = state.channels.get(id);
  if (channel === undefined) return undefined;
  for (const [cid, record] of channel.records) {
    if (!current(state.minios, cid, record)) {
      dropChannel(state, channel);
      return undefined;
    }
  }
  return channel;
}

function dropChannel(state: IoState, channel: Channel): void {
  for (const slot of channel.states.values()) state.slab.release(state.minios, state.port, slot);
  state.channels.delete(channel.id);
}

/** rc_ipc_out(from, to, control, id, a, b): see abi.ts. */
function ipcOut(context: CallContext, args: readonly number[]): CallOutcome {
  const [from = 0, to = 0, control = 0, id = 0, a = 0, b = 0] = args;
  if (!isEndpoint(from) || !isEndpoint(to) || from === to) return fail(RcError.EINVAL);
  if (!Number.isSafeInteger(control) || control < 0 || control >= 2 ** 48) return fail(RcError.EINVAL);
  const op = control % 256;
  const flags = Math.floor(control / 256) % 256;
  const length = Math.floor(control / 2 ** 16);
  const state = stateOf(context);
  switch (op) {
    case IpcOutOp.Offer:
      return offerChannel(context, state, from, to);
    case IpcOutOp.Accept:
      return acceptChannel(context, state, from, to, id);
    case IpcOutOp.Seal:
      return sealFrame(context, state, from, to, id, { length, flags, src: a, dst: b });
    case IpcOutOp.Open:
      return openFrame(context, state, from, to, id, { length, flags, src: a, dst: b });
    case IpcOutOp.Close:
      return closeChannel(context, state, from, to, id);
    case IpcOutOp.ShareOffer:
      return offerShare(context, state, from, to, a, length);
    case IpcOutOp.ShareAccept:
      return acceptShare(context, state, from, to, id);
    case IpcOutOp.Unshare:
      return unshare(context, state, from, to, id);
    default:
      return fail(RcError.EINVAL);
  }
}

function offerChannel(context: CallContext, state: IoState, from: number, to: number): CallOutcome {
  const { minios } = context;
  if (!speaksFor(context, from)) return fail(RcError.EPERM);
  const records = new Map<number, ContainerRecord>();
  for (const endpoint of [from, to]) {
    if (endpoint === 0) continue;
    const record = minios.containers.get(endpoint);
    if (record === undefined) return fail(RcError.ENOENT);
    records.set(endpoint, record);
  }
  for (const channel of [...state.channels.values()]) liveChannel(state, channel.id); // drop stale ones
  if (state.channels.size >= MAX_CHANNELS) return fail(RcError.ENOMEM);
  if (state.nextChannel > 0xffff_ffff) return fail(RcError.EOVERFLOW);
  const channel: Channel = { id: state.nextChannel++, offerer: from, peer: to, records, states: new Map() };
  state.channels.set(channel.id, channel);
  return ok(channel.id);
}

function acceptChannel(
  context: CallContext,
  state: IoState,
  from: number,
  to: number,
  id: number,
): CallOutcome {
  const channel = liveChannel(state, id);
  if (channel === undefined) return fail(RcError.ENOENT);
  if (channel.peer !== from || channel.offerer !== to || !speaksFor(context, from))
    return fail(RcError.EPERM);
  if (channel.states.size > 0) return fail(RcError.EBUSY); // already accepted
  const random = randomSlots(state);
  const salt = random === undefined ? undefined : readSlot(state, random.salt, BOOT_SALT_BYTES);
  if (salt === undefined) return fail(RcError.ENOMEM);
  const slots: number[] = [];
  for (let i = 0; i < 2; i++) {
    const slot = state.slab.allocate(state.minios, state.port);
    if (slot === undefined) {
      slots.forEach((s) => state.slab.release(state.minios, state.port, s));
      return fail(RcError.ENOMEM);
    }
    slots.push(slot);
  }
  const sealingRoot = state.minios.boot.sealingRoot;
  [from, to].forEach((local, i) => {
    const peer = local === from ? to : from;
    writeSlot(state, slots[i]!, initIpcChannel({ sealingRoot, bootSalt: salt, channelId: id, local, peer }));
    channel.states.set(local, slots[i]!);
  });
  return ok();
}

interface FrameArgs {
  readonly length: number;
  readonly flags: number;
  readonly src: number;
  readonly dst: number;
}

/** The accepted channel `id` joining `from` and `to`, or why not. */
function channelBetween(state: IoState, id: number, from: number, to: number): Channel | RcError {
  const channel = liveChannel(state, id);
  if (channel === undefined) return RcError.ENOENT;
  const ends = [channel.offerer, channel.peer];
  if (!ends.includes(from) || !ends.includes(to)) return RcError.EPERM;
  if (channel.states.size === 0) return RcError.EPERM; // missing the peer's consent
  return channel;
}

function sealFrame(
  context: CallContext,
  state: IoState,
  from: number,
  to: number,
  id: number,
  f: FrameArgs,
): CallOutcome {
  const channel = channelBetween(state, id, from, to);
  if (typeof channel === 'number') return fail(channel);
  if (!speaksFor(context, from)) return fail(RcError.EPERM);
  if ((f.flags & ~IpcFlag.Fin) !== 0 || f.length > IPC_MAX_PAYLOAD) return fail(RcError.EINVAL);
  if (!isAddress(f.src) || !isAddress(f.dst)) return fail(RcError.EINVAL);
  const frameBytes = ipcFrameBytes(f.length);
  if (f.length > 0 && !endpointRange(state, from, f.src, f.length)) return fail(RcError.EPERM);
  if (!osRange(state.minios, f.dst, frameBytes)) return fail(RcError.EPERM);
  const slot = channel.states.get(from)!;
  const channelState = readSlot(state, slot, IPC_CHANNEL_STATE_BYTES);
  const payload = f.length === 0 ? new Uint8Array(0) : state.port.readBytes(f.src, f.length);
  if (channelState === undefined || payload === undefined) return fail(RcError.EINVAL);
  const sealed = ipcSeal(channelState, payload, { fin: (f.flags & IpcFlag.Fin) !== 0 });
  if (!sealed.ok) {
    state.stats.cryptoRefusals++;
    return fail(ipcError(sealed.error));
  }
  context.pe.charge(Ev.CryptoBytes, f.length + 32);
  // The frame first: the channel advances only once the frame is where the kernel will look.
  if (!state.port.writeBytes(f.dst, sealed.frame) || !writeSlot(state, slot, sealed.state)) {
    return fail(RcError.EINVAL);
  }
  state.stats.framesSealed++;
  return ok(frameBytes);
}

function openFrame(
  context: CallContext,
  state: IoState,
  from: number,
  to: number,
  id: number,
  f: FrameArgs,
): CallOutcome {
  const channel = channelBetween(state, id, from, to);
  if (typeof channel === 'number') return fail(channel);
  if (!speaksFor(context, to)) return fail(RcError.EPERM);
  if (f.flags !== 0 || f.length < ipcFrameBytes(0) || f.length > ipcFrameBytes(IPC_MAX_PAYLOAD)) {
    return fail(RcError.EINVAL);
  }
  if (!isAddress(f.src) || !isAddress(f.dst)) return fail(RcError.EINVAL);
  if (!osRange(state.minios, f.src, f.length)) return fail(RcError.EPERM);
  // Copy the frame into the mini-OS once; everything below looks at the copy only.
  const frame = state.port.readBytes(f.src, f.length);
  if (frame === undefined) return fail(RcError.EINVAL);
  const header = decodeIpcFrameHeader(frame);
  if (!header.ok) {
    state.stats.cryptoRefusals++;
    return fail(ipcError(header.error));
  }
  const payloadBytes = header.header.length;
  if (payloadBytes > 0 && !endpointRange(state, to, f.dst, payloadBytes)) return fail(RcError.EPERM);
  const slot = channel.states.get(to)!;
  const channelState = readSlot(state, slot, IPC_CHANNEL_STATE_BYTES);
  if (channelState === undefined) return fail(RcError.EINVAL);
  const opened = ipcOpen(channelState, frame);
  context.pe.charge(Ev.CryptoBytes, payloadBytes + 32);
  if (!opened.ok) {
    state.stats.cryptoRefusals++;
    return fail(ipcError(opened.error));
  }
  if (
    (payloadBytes > 0 && !state.port.writeBytes(f.dst, opened.payload)) ||
    !writeSlot(state, slot, opened.state)
  ) {
    return fail(RcError.EINVAL);
  }
  state.stats.framesOpened++;
  return ok(opened.payload.length + (opened.fin ? IPC_OPEN_FIN : 0));
}

function closeChannel(
  context: CallContext,
  state: IoState,
  from: number,
  to: number,
  id: number,
): CallOutcome {
  const channel = liveChannel(state, id);
  if (channel === undefined) return fail(RcError.ENOENT);
  const ends = [channel.offerer, channel.peer];
  if (!ends.includes(from) || !ends.includes(to) || !speaksFor(context, from)) return fail(RcError.EPERM);
  dropChannel(state, channel);
  return ok();
}

/** The share `id` if both containers are still the ones it was made for (else it is ended). */
function liveShare(state: IoState, id: number): Share | undefined {
  const share = state.shares.get(id);
  if (share === undefined) return undefined;
  const { minios } = state;
  const stillShared = share.granules.every(
    (index) =>
      minios.ownership.kindOf(index) === (share.accepted ? Owner.Shared : Owner.Ctr) &&
      minios.ownership.containerOf(index) === share.owner,
  );
  if (
    current(minios, share.owner, share.ownerRecord) &&
    current(minios, share.peer, share.peerRecord) &&
    stillShared
  ) {
    return share;
  }
  endShare(state, share);
  return undefined;
}

/**
 * End a share: granules still Shared go back to the offering container (or, if it is gone, are
 * scrubbed and returned to the OS), then their member set is forgotten. Returns false (nothing
 * changed) if the GPT views could not be edited.
 */
function endShare(state: IoState, share: Share): boolean {
  const { minios, port } = state;
  const shared = share.granules.filter(
    (index) => minios.ownership.kindOf(index) === Owner.Shared && state.shareOf.get(index) === share.id,
  );
  if (shared.length > 0) {
    const ownerLive = current(minios, share.owner, share.ownerRecord);
    if (!ownerLive) for (const index of shared) minios.scrub(port, index);
    const moved = ownerLive
      ? minios.transfer(port.pe, shared, Owner.Ctr, share.owner)
      : minios.transfer(port.pe, shared, Owner.Os, 0);
    if (!moved) return false;
    if (!ownerLive) for (const index of shared) share.ownerRecord.ctr.delete(index);
  }
  for (const index of share.granules) {
    if (state.shareOf.get(index) !== share.id) continue;
    state.shareOf.delete(index);
    if (minios.ownership.kindOf(index) !== Owner.Shared) minios.views.setSharing(index, new Set());
  }
  state.shares.delete(share.id);
  return true;
}

function offerShare(
  context: CallContext,
  state: IoState,
  from: number,
  to: number,
  pa: number,
  count: number,
): CallOutcome {
  const { minios } = context;
  if (from === 0 || to === 0) return fail(RcError.EINVAL); // container memory is never shared with the host
  if (!speaksFor(context, from)) return fail(RcError.EPERM);
  const ownerRecord = minios.containers.get(from)!;
  const peerRecord = minios.containers.get(to);
  if (peerRecord === undefined) return fail(RcError.ENOENT);
  if (!Number.isSafeInteger(count) || count < 1 || count > MAX_SHARE_GRANULES) return fail(RcError.EINVAL);
  if (!isAddress(pa) || pa % GRANULE !== 0 || pa + count * GRANULE > PA_LIMIT) return fail(RcError.EINVAL);
  for (const share of [...state.shares.values()]) liveShare(state, share.id); // end stale ones
  const granules: number[] = [];
  const free = rangeOwned(minios, pa, count * GRANULE, (kind, container, index) => {
    granules.push(index);
    return kind === Owner.Ctr && container === from && !state.shareOf.has(index);
  });
  if (!free) return fail(RcError.EPERM);
  if (state.shares.size >= MAX_SHARES || state.nextShare > 0xffff_ffff) return fail(RcError.ENOMEM);
  const share: Share = {
    id: state.nextShare++,
    owner: from,
    peer: to,
    ownerRecord,
    peerRecord,
    granules,
    accepted: false,
  };
  state.shares.set(share.id, share);
  for (const index of granules) state.shareOf.set(index, share.id);
  return ok(share.id);
}

function acceptShare(
  context: CallContext,
  state: IoState,
  from: number,
  to: number,
  id: number,
): CallOutcome {
  const share = liveShare(state, id);
  if (share === undefined) return fail(RcError.ENOENT);
  if (share.peer !== from || share.owner !== to || !speaksFor(context, from)) return fail(RcError.EPERM);
  if (share.accepted) return fail(RcError.EBUSY);
  const { minios, pe } = context;
  const members = new Set([share.owner, share.peer]);
  for (const index of share.granules) minios.views.setSharing(index, members);
  if (!minios.transfer(pe, share.granules, Owner.Shared, share.owner)) {
    for (const index of share.granules) minios.views.setSharing(index, new Set());
    return fail(RcError.ENOMEM);
  }
  share.accepted = true;
  return ok();
}

function unshare(context: CallContext, state: IoState, from: number, to: number, id: number): CallOutcome {
  const share = liveShare(state, id);
  if (share === undefined) return fail(RcError.ENOENT);
  const members = [share.owner, share.peer];
  if (!members.includes(from) || !members.includes(to) || !speaksFor(context, from))
    return fail(RcError.EPERM);
  return endShare(state, share) ? ok() : fail(RcError.ENOMEM);
}

// ------------------------------------------------------------------ sealed storage

/** Map a storage library refusal to an error result. */
function storageError(error: StorageError): RcError {
  switch (error.kind) {
    case 'BadContext':
      return RcError.EINVAL; // a mini-OS bug: its own context bytes are not a context
    case 'OutOfRange':
    case 'BadLength':
      return RcError.EINVAL;
    case 'Malformed':
    case 'WrongContainer':
    case 'TreeCorrupt':
    case 'AuthFailed':
    case 'Relocated':
      return RcError.EBADMSG;
    case 'Unwritten':
      return RcError.ENOENT;
    case 'Rollback':
    case 'VersionAhead':
      return RcError.ESTALE;
    case 'VersionExhausted':
      return RcError.EOVERFLOW;
  }
}

/** The container's disk if it has one and is still the container it was attached for. */
function liveDisk(state: IoState, cid: number): StorageDisk | undefined {
  const disk = state.disks.get(cid);
  if (disk === undefined) return undefined;
  if (current(state.minios, cid, disk.record)) return disk;
  state.slab.release(state.minios, state.port, disk.context);
  state.disks.delete(cid);
  return undefined;
}

/** rc_storage_attach(cid, blockCount, treePa): see abi.ts. */
function storageAttach(context: CallContext, args: readonly number[]): CallOutcome {
  const [cid = 0, blockCount = 0, treePa = 0] = args;
  const state = stateOf(context);
  const { minios } = context;
  if (!isCid(cid)) return fail(RcError.EINVAL);
  const record = minios.containers.get(cid);
  if (record === undefined) return fail(RcError.ENOENT);
  if (!speaksFor(context, 0) && !speaksFor(context, cid)) return fail(RcError.EPERM);
  const disk = liveDisk(state, cid);
  if (blockCount === 0) {
    if (disk === undefined) return fail(RcError.ENOENT);
    state.slab.release(minios, state.port, disk.context);
    state.disks.delete(cid);
    return ok();
  }
  if (!Number.isSafeInteger(blockCount) || blockCount < 1 || blockCount > STORAGE_MAX_BLOCKS) {
    return fail(RcError.EINVAL);
  }
  if (!isAddress(treePa) || treePa % GRANULE !== 0) return fail(RcError.EINVAL);
  if (disk !== undefined) return fail(RcError.EBUSY);
  const treeBytes = storageTreeBytes(blockCount);
  if (!osRange(minios, treePa, treeBytes)) return fail(RcError.EPERM);
  // A fresh generation for every attach, so no two disks ever share a key (storage.ts nonces).
  const generationBytes = randomBytes(state, 4);
  const slot = generationBytes === undefined ? undefined : state.slab.allocate(minios, state.port);
  if (generationBytes === undefined || slot === undefined) return fail(RcError.ENOMEM);
  const { context: storageContext, tree } = initStorage({
    sealingRoot: minios.boot.sealingRoot,
    containerId: cid,
    generation: readU32(generationBytes, 0),
    blockCount,
  });
  if (!state.port.writeBytes(treePa, tree) || !writeSlot(state, slot, storageContext)) {
    state.slab.release(minios, state.port, slot);
    return fail(RcError.EINVAL);
  }
  state.disks.set(cid, { record, context: slot, treePa, treeBytes, blockCount });
  return ok();
}

/**
 * The version tree in OS memory, read through the linear map. Writes are staged and applied by the
 * caller only once the whole operation succeeded.
 */
function treeStore(
  state: IoState,
  disk: StorageDisk,
  staged: { offset: number; bytes: Uint8Array }[],
): VersionTreeStore {
  return {
    read: (offset, length) =>
      offset + length <= disk.treeBytes
        ? (state.port.readBytes(disk.treePa + offset, length) ?? new Uint8Array(0))
        : new Uint8Array(0),
    write: (offset, bytes) => staged.push({ offset, bytes: bytes.slice() }),
  };
}

/** rc_seal_block / rc_open_block(cid, block, srcPa, dstPa): see abi.ts. */
function blockCall(context: CallContext, args: readonly number[], op: 'seal' | 'open'): CallOutcome {
  const [cid = 0, block = 0, src = 0, dst = 0] = args;
  const state = stateOf(context);
  const { minios, port } = context;
  if (!isCid(cid)) return fail(RcError.EINVAL);
  if (!minios.containers.has(cid)) return fail(RcError.ENOENT);
  if (!speaksFor(context, cid)) return fail(RcError.EPERM);
  const disk = liveDisk(state, cid);
  if (disk === undefined) return fail(RcError.ENOENT);
  if (!Number.isSafeInteger(block) || block < 0 || block >= disk.blockCount) return fail(RcError.EINVAL);
  if (!isAddress(src) || !isAddress(dst)) return fail(RcError.EINVAL);
  // The plaintext side is one whole page of CTR(c)/SHIM(c); the sealed side an OS buffer.
  const page = op === 'seal' ? src : dst;
  const record = op === 'seal' ? dst : src;
  // SHIM(c) only as the kernel's data pages: never a record, context or table of the con-shim.
  const mine = (kind: Owner, container: number, index: number): boolean =>
    container === cid && (kind === Owner.Ctr || (kind === Owner.Shim && kernelData(minios, cid, index)));
  if (page % GRANULE !== 0) return fail(RcError.EINVAL);
  if (!rangeOwned(minios, page, STORAGE_BLOCK_BYTES, mine)) return fail(RcError.EPERM);
  if (!osRange(minios, record, SEALED_BLOCK_BYTES)) return fail(RcError.EPERM);
  if (!osRange(minios, disk.treePa, disk.treeBytes)) return fail(RcError.EPERM);
  const storageContext = readSlot(state, disk.context, STORAGE_CONTEXT_BYTES);
  const input = port.readBytes(src, op === 'seal' ? STORAGE_BLOCK_BYTES : SEALED_BLOCK_BYTES);
  if (storageContext === undefined || input === undefined) return fail(RcError.EINVAL);
  const staged: { offset: number; bytes: Uint8Array }[] = [];
  const work = storageWork(disk.blockCount, op);
  context.pe.charge(Ev.CryptoBytes, work.aesBytes + work.hashBytes);
  if (op === 'seal') {
    const sealed = sealBlock(storageContext, treeStore(state, disk, staged), block, input);
    if (!sealed.ok) {
      state.stats.cryptoRefusals++;
      return fail(storageError(sealed.error));
    }
    // The record, then the tree, then the root: the version advances only once the record is out.
    if (!port.writeBytes(dst, sealed.sealed)) return fail(RcError.EINVAL);
    for (const write of staged) port.writeBytes(disk.treePa + write.offset, write.bytes);
    if (!writeSlot(state, disk.context, sealed.context)) return fail(RcError.EINVAL);
    state.stats.blocksSealed++;
    return ok(readU32(sealed.sealed, STORAGE_BLOCK_BYTES + 20));
  }
  const opened = openBlock(storageContext, treeStore(state, disk, staged), block, input);
  if (!opened.ok) {
    state.stats.cryptoRefusals++;
    return fail(storageError(opened.error));
  }
  if (!port.writeBytes(dst, opened.data)) return fail(RcError.EINVAL);
  state.stats.blocksOpened++;
  return ok(opened.version);
}

// ------------------------------------------------------------------ rc_attest

const MAX_NONCE_BYTES = 64;

/** rc_attest(cid, noncePa, nonceLength, outPa, outLength): see abi.ts. */
function attest(context: CallContext, args: readonly number[]): CallOutcome {
  const [cid = 0, noncePa = 0, nonceLength = 0, outPa = 0, outLength = 0] = args;
  const state = stateOf(context);
  const { minios, port } = context;
  if (!isCid(cid)) return fail(RcError.EINVAL);
  const record = minios.containers.get(cid);
  if (
    record === undefined ||
    !record.bound ||
    record.imageDigest === undefined ||
    record.configDigest === undefined
  ) {
    return fail(RcError.ENOENT);
  }
  if (!Number.isSafeInteger(nonceLength) || nonceLength < 1 || nonceLength > MAX_NONCE_BYTES) {
    return fail(RcError.EINVAL);
  }
  if (!isAddress(noncePa) || !isAddress(outPa) || !Number.isSafeInteger(outLength) || outLength < 0) {
    return fail(RcError.EINVAL);
  }
  if (!osRange(minios, noncePa, nonceLength)) return fail(RcError.EPERM);
  const nonce = port.readBytes(noncePa, nonceLength);
  const boot = bootInfo(state);
  if (nonce === undefined || boot === undefined) return fail(RcError.EINVAL);
  const measurements: Measurement[] = boot.log.map((entry) => ({
    component: entry.component,
    sha256: entry.digest,
  }));
  state.attestationKey ??= miniosAttestationKey(minios.boot.sealingRoot);
  const key = state.attestationKey;
  const report = signReport(
    {
      containerId: cid,
      execPolicy: record.policy ?? 0,
      imageDigest: record.imageDigest,
      configDigest: record.configDigest,
      measurementChain: measurementChainOf(measurements),
      measurements,
      nonce,
    },
    (message) => key.sign(message),
  );
  const evidence = concatBytes(report, key.publicKey, boot.platformToken);
  if (outLength < evidence.length) return fail(RcError.ENOSPC);
  if (!osRange(minios, outPa, evidence.length)) return fail(RcError.EPERM);
  if (!port.writeBytes(outPa, evidence)) return fail(RcError.EINVAL);
  state.stats.reports++;
  return ok(evidence.length);
}

// ------------------------------------------------------------------ forgetting a container

/** Drop every entry of `state` that belongs to a container `cid` which is gone or was replaced. */
function sweep(state: IoState, cid: number): void {
  const { minios } = state;
  const record = minios.containers.get(cid);
  const stale = (made: ContainerRecord): boolean => made !== record;
  const disk = state.disks.get(cid);
  if (disk !== undefined && stale(disk.record)) {
    state.slab.release(minios, state.port, disk.context);
    state.disks.delete(cid);
  }
  for (const channel of [...state.channels.values()]) {
    const made = channel.records.get(cid);
    if (made !== undefined && stale(made)) dropChannel(state, channel);
  }
  for (const share of [...state.shares.values()]) {
    if (
      (share.owner === cid && stale(share.ownerRecord)) ||
      (share.peer === cid && stale(share.peerRecord))
    ) {
      endShare(state, share);
    }
  }
  const table = state.regions.get(cid);
  if (table !== undefined && stale(table.record)) state.regions.delete(cid);
}
