/**
 * The GPT views the mini-OS maintains in MINI memory (DESIGN.md §1): OS-GPT, and one shim-GPT per
 * container. (The Priv-GPT belongs to the firmware and never changes.) Every GPI is derived from
 * the ownership table: a granule is "open" (GPI Non-secure) in a view when that view's owner may
 * touch it, "closed" (GPI NO_ACCESS) otherwise, and Root granules stay GPI Root everywhere.
 *
 * Sharing: each view has its own L0 table, but a container's view points at the OS-GPT's L1 table
 * (or repeats its L0 block descriptor) for every L0 region where the container owns nothing, so a
 * container costs its L0 table plus one L1 table per L0 region holding its memory (copy on first
 * divergence). Edits keep every view consistent: a change of a granule's owner rewrites its nibble
 * in the OS-GPT and in each private L1 table of that region.
 *
 * Shared granules (Owner.Shared, rc_ipc_out with both sides' consent) count as memory of every
 * member: each member's view has a private L1 table for the region and sees the granule open; the
 * OS-GPT, and hence every view that follows it there, sees it closed. Protocol: the member set of a
 * granule is recorded with {@link GptViews.setSharing} only while the granule is not Shared (before
 * it becomes Shared, and to forget it after it stopped being Shared), so that {@link GptViews.update}
 * knows both the old and the new members of every change.
 *
 * SIMPLIFICATION: the mini-OS uses 4 KiB granules (PGS = 0b00) and granule descriptors only (no
 * contiguous descriptors in the views it edits).
 */
import { Gpi } from '../hw/pas.js';
import { Owner } from './abi.js';
import type { MiniHeap } from './heap.js';
import type { OwnershipTable } from './ownership.js';
import type { PhysPort } from './port.js';

/** GPT geometry shared by all views (GPCCR_EL3 is not switched, only GPTBR_EL3). */
export interface GptGeometry {
  /** Protected physical size in bits (PPS). */
  readonly t: number;
  /** Bits covered by one L0 entry (L0GPTSZ). */
  readonly s: number;
}

/**
 * A PA range whose GPI is fixed in every view, as the Priv-GPT has it: firmware memory and the
 * SMMU's Root page (GPI Root), the SMMU's Secure page (GPI Secure).
 */
export interface FixedRange {
  readonly base: number;
  readonly size: number;
  readonly gpi: number;
}

/** Outcome of an edit: granules whose GPI changed in some view (they need TLBI RPALOS). */
export type ChangedGranules = number[];

const L0_BLOCK_NS = 0x91; // L0 Block descriptor, GPI Non-secure
const NIBBLES_NS = 0x9999_9999;

interface ContainerView {
  readonly l0: number;
  /** L0 index → PA of the container's private L1 table. */
  readonly l1: Map<number, number>;
  /** L0 index → granules of the container in that region (a private L1 exists while > 0). */
  readonly granulesInRegion: Map<number, number>;
}

/** The OS-GPT and the shim-GPTs. */
export class GptViews {
  readonly geometry: GptGeometry;
  private osL0Pa = 0;
  private readonly port: PhysPort;
  private readonly ownership: OwnershipTable;
  private readonly heap: MiniHeap;
  private readonly l0Entries: number;
  private readonly l0Bytes: number;
  private readonly l1Bytes: number;
  /** L0 index → PA of the OS-GPT's L1 table (absent: an L0 block, GPI Non-secure). */
  private readonly osL1 = new Map<number, number>();
  private readonly containers = new Map<number, ContainerView>();
  /** L0 index → containers with a private L1 table there. */
  private readonly privateByRegion = new Map<number, Set<number>>();
  /** Granule index → containers it is shared with (Owner.Shared). */
  private readonly sharedWith = new Map<number, ReadonlySet<number>>();
  /** Bytes of GPT tables of all views. */
  private tableBytes = 0;

  /**
   * Build the OS-GPT from the ownership table: fixed ranges keep their GPI; granules not owned by
   * the OS are closed. Returns undefined if the heap cannot hold the tables.
   */
  static build(
    port: PhysPort,
    ownership: OwnershipTable,
    heap: MiniHeap,
    geometry: GptGeometry,
    fixed: readonly FixedRange[],
  ): GptViews | undefined {
    const views = new GptViews(port, ownership, heap, geometry);
    return views.init(fixed) ? views : undefined;
  }

  private constructor(port: PhysPort, ownership: OwnershipTable, heap: MiniHeap, geometry: GptGeometry) {
    this.port = port;
    this.ownership = ownership;
    this.heap = heap;
    this.geometry = geometry;
    this.l0Entries = 2 ** Math.max(geometry.t - geometry.s, 0);
    this.l0Bytes = Math.max(this.l0Entries * 8, 4096);
    this.l1Bytes = 2 ** (geometry.s - 12 - 1);
  }

  /** L0 base PA of the OS-GPT. */
  get osL0(): number {
    return this.osL0Pa;
  }

  private init(fixed: readonly FixedRange[]): boolean {
    const l0 = this.allocateTable(this.l0Bytes);
    if (l0 === undefined) return false;
    this.osL0Pa = l0;
    for (let i = 0; i < this.l0Entries; i++) if (!this.port.write64(l0 + 8 * i, L0_BLOCK_NS, 0)) return false;
    for (const range of fixed) {
      for (let pa = range.base; pa < range.base + range.size; pa += 4096) {
        const l1 = this.osRegionTable(this.regionOf(pa));
        if (l1 === undefined) return false;
        this.writeNibble(l1, pa, range.gpi);
      }
    }
    for (let i = 0; i < this.ownership.granules; i++) {
      const kind = this.ownership.kindOf(i);
      // Root memory is covered by the fixed ranges; everything open in the OS-GPT needs no write.
      if (kind === Owner.Root) continue;
      const gpi = this.gpiFor(0, kind, this.ownership.containerOf(i), i);
      if (gpi === Gpi.NonSecure) continue;
      const pa = this.ownership.paOf(i);
      const l1 = this.osRegionTable(this.regionOf(pa));
      if (l1 === undefined) return false;
      this.writeNibble(l1, pa, gpi);
    }
    return true;
  }

  /** Bytes of GPT tables (all views) currently allocated. */
  get bytes(): number {
    return this.tableBytes;
  }

  /** L0 base PA of container `cid`'s view (its GPTBR_EL3 value << 12), if it has one. */
  viewOf(cid: number): number | undefined {
    return this.containers.get(cid)?.l0;
  }

  /** Containers that have a view. */
  containerIds(): number[] {
    return [...this.containers.keys()];
  }

  /** Create shim-GPT(cid): an L0 table sharing every region with the OS-GPT. */
  createView(cid: number): number | undefined {
    const l0 = this.allocateTable(this.l0Bytes);
    if (l0 === undefined) return undefined;
    for (let i = 0; i < this.l0Entries; i++) {
      const l1 = this.osL1.get(i);
      const ok =
        l1 === undefined
          ? this.port.write64(l0 + 8 * i, L0_BLOCK_NS, 0)
          : this.writeTableDescriptor(l0, i, l1);
      if (!ok) return undefined;
    }
    this.containers.set(cid, { l0, l1: new Map(), granulesInRegion: new Map() });
    return l0;
  }

  /** Drop shim-GPT(cid) (the container must own no granule any more). */
  dropView(cid: number): void {
    const view = this.containers.get(cid);
    if (view === undefined) return;
    for (const [region, l1] of view.l1) {
      this.privateByRegion.get(region)?.delete(cid);
      this.freeTable(l1, this.l1Bytes);
    }
    this.freeTable(view.l0, this.l0Bytes);
    this.containers.delete(cid);
  }

  /**
   * Record the containers a granule is open to while it is Shared. Call while the granule is not
   * Shared: before the {@link update} that makes it Shared, or (with an empty set) after the one that
   * ends it.
   */
  setSharing(index: number, containers: ReadonlySet<number>): void {
    if (containers.size === 0) this.sharedWith.delete(index);
    else this.sharedWith.set(index, containers);
  }

  /**
   * Re-derive the GPI of granule `index` in every view after its owner changed from
   * (oldKind, oldContainer) to what the ownership table now says. Returns false if a table could
   * not be allocated (the caller must undo the ownership change).
   */
  update(index: number, oldKind: Owner, oldContainer: number): boolean {
    const pa = this.ownership.paOf(index);
    const region = this.regionOf(pa);
    const kind = this.ownership.kindOf(index);
    const container = this.ownership.containerOf(index);
    const oldMembers = this.membersOf(oldKind, oldContainer, index);
    const newMembers = this.membersOf(kind, container, index);
    const gained = newMembers.filter((cid) => !oldMembers.includes(cid));
    const lost = oldMembers.filter((cid) => !newMembers.includes(cid));
    // A container gaining a granule in this region needs its private L1 table first.
    for (const cid of gained) {
      if (!this.ensurePrivate(cid, region)) {
        this.dropUnused(gained, region);
        return false;
      }
    }
    const osGpi = this.gpiFor(0, kind, container, index);
    if (osGpi !== this.gpiFor(0, oldKind, oldContainer, index) || this.osL1.has(region)) {
      const osTable = this.osRegionTable(region);
      if (osTable === undefined) {
        this.dropUnused(gained, region);
        return false;
      }
      this.writeNibble(osTable, pa, osGpi);
    }
    // Only views whose GPI for this granule changes are written (most views see "closed" both
    // before and after a granule moves between the mini-OS and another container).
    for (const cid of this.privateByRegion.get(region) ?? []) {
      const gpi = this.gpiFor(cid, kind, container, index);
      if (gpi === this.gpiFor(cid, oldKind, oldContainer, index) && !gained.includes(cid)) continue;
      this.writeNibble(this.containers.get(cid)!.l1.get(region)!, pa, gpi);
    }
    for (const cid of gained) this.countIn(cid, region, +1);
    for (const cid of lost) this.countIn(cid, region, -1);
    return true;
  }

  /** Containers whose view a granule owned by (kind, container) is open in. */
  private membersOf(kind: Owner, container: number, index: number): number[] {
    if (isContainerKind(kind)) return container === 0 ? [] : [container];
    if (kind === Owner.Shared) return [...(this.sharedWith.get(index) ?? [])];
    return [];
  }

  /** GPI of a granule owned by (kind, container) as seen by view `viewer` (0 = OS-GPT). */
  gpiFor(viewer: number, kind: Owner, container: number, index: number): number {
    switch (kind) {
      case Owner.Os:
      case Owner.PtOs:
      case Owner.Trampoline:
        return Gpi.NonSecure;
      case Owner.Root:
        return Gpi.Root;
      case Owner.Mini:
        return Gpi.NoAccess;
      case Owner.Ctr:
      case Owner.Shim:
      case Owner.Pt:
        return viewer !== 0 && viewer === container ? Gpi.NonSecure : Gpi.NoAccess;
      case Owner.Shared:
        return viewer !== 0 && (this.sharedWith.get(index)?.has(viewer) ?? false)
          ? Gpi.NonSecure
          : Gpi.NoAccess;
    }
  }

  private countIn(cid: number, region: number, delta: number): void {
    const view = this.containers.get(cid);
    if (view === undefined) return;
    const count = (view.granulesInRegion.get(region) ?? 0) + delta;
    if (count > 0) {
      view.granulesInRegion.set(region, count);
      return;
    }
    view.granulesInRegion.delete(region);
    this.dropPrivate(cid, region);
  }

  /** After a failed edit: drop private tables that `cids` got for `region` but hold nothing in. */
  private dropUnused(cids: readonly number[], region: number): void {
    for (const cid of cids) {
      if ((this.containers.get(cid)?.granulesInRegion.get(region) ?? 0) === 0) this.dropPrivate(cid, region);
    }
  }

  /** The container owns nothing in `region` any more: share the OS-GPT's table again. */
  private dropPrivate(cid: number, region: number): void {
    const view = this.containers.get(cid);
    if (view === undefined) return;
    const l1 = view.l1.get(region);
    if (l1 === undefined) return;
    const osTable = this.osL1.get(region);
    if (osTable === undefined) this.port.write64(view.l0 + 8 * region, L0_BLOCK_NS, 0);
    else this.writeTableDescriptor(view.l0, region, osTable);
    view.l1.delete(region);
    this.privateByRegion.get(region)?.delete(cid);
    this.freeTable(l1, this.l1Bytes);
  }

  /** Give container `cid` a private copy of the OS-GPT's L1 table of `region`. */
  private ensurePrivate(cid: number, region: number): boolean {
    const view = this.containers.get(cid);
    if (view === undefined) return true; // no view yet: nothing to keep consistent
    if (view.l1.has(region)) return true;
    const l1 = this.allocateTable(this.l1Bytes);
    if (l1 === undefined) return false;
    const osTable = this.osL1.get(region);
    if (osTable === undefined) {
      if (!this.fillNs(l1)) return false;
    } else {
      const bytes = this.port.readBytes(osTable, this.l1Bytes);
      if (bytes === undefined || !this.port.writeBytes(l1, bytes)) return false;
    }
    // Open the container's own granules already in this region (none unless the view is new).
    view.l1.set(region, l1);
    let set = this.privateByRegion.get(region);
    if (set === undefined) {
      set = new Set();
      this.privateByRegion.set(region, set);
    }
    set.add(cid);
    return this.writeTableDescriptor(view.l0, region, l1);
  }

  /** The OS-GPT's L1 table of `region`, created (all Non-secure) on first use. */
  private osRegionTable(region: number): number | undefined {
    const existing = this.osL1.get(region);
    if (existing !== undefined) return existing;
    const l1 = this.allocateTable(this.l1Bytes);
    if (l1 === undefined || !this.fillNs(l1)) return undefined;
    this.osL1.set(region, l1);
    if (!this.writeTableDescriptor(this.osL0, region, l1)) return undefined;
    // Every container view that follows the OS-GPT here now follows its new table.
    const privates = this.privateByRegion.get(region);
    for (const [cid, view] of this.containers) {
      if (!privates?.has(cid) && !this.writeTableDescriptor(view.l0, region, l1)) return undefined;
    }
    return l1;
  }

  private fillNs(l1: number): boolean {
    const words = new Uint32Array(this.l1Bytes / 4).fill(NIBBLES_NS);
    return this.port.writeBytes(l1, new Uint8Array(words.buffer));
  }

  private writeTableDescriptor(l0: number, region: number, l1: number): boolean {
    return this.port.write64(l0 + 8 * region, (l1 % 2 ** 32) + 0b0011, Math.floor(l1 / 2 ** 32));
  }

  private writeNibble(l1: number, pa: number, gpi: number): void {
    const granule = Math.floor(pa / 4096);
    const wordPa = l1 + 8 * (Math.floor(granule / 16) % (this.l1Bytes / 8));
    const nibble = granule % 16;
    const half = wordPa + (nibble < 8 ? 0 : 4);
    const shift = 4 * (nibble % 8);
    const word = this.port.read32(half);
    this.port.write32(half, ((word & ~(0xf << shift)) | (gpi << shift)) >>> 0);
  }

  private regionOf(pa: number): number {
    return Math.floor(pa / 2 ** this.geometry.s);
  }

  private allocateTable(bytes: number): number | undefined {
    const pa = this.heap.allocate(bytes);
    if (pa !== undefined) this.tableBytes += bytes;
    return pa;
  }

  private freeTable(pa: number, bytes: number): void {
    this.heap.freeBlock(pa, bytes);
    this.tableBytes -= bytes;
  }
}

function isContainerKind(kind: Owner): boolean {
  return kind === Owner.Ctr || kind === Owner.Shim || kind === Owner.Pt;
}
