/**
 * The kernel's driver of the machine's DMA block device (hw/devices/block.ts), programmed through
 * its MMIO register window at the platform's `blockDeviceVa` with 32-bit loads and stores by the PE
 * that runs the request. The device DMAs to and from a physical buffer: the SMMU is left in GBPA
 * bypass, so the address written to DMA_LO/HI is a PA, and every access of the device is checked by
 * the GPC against the OS view: the device reaches OS memory (the bounce buffers) and nothing else.
 *
 * One request: SECTOR_LO/HI ← first sector, COUNT ← sectors (≤ MAX_SECTORS, a longer transfer is
 * split), DMA_LO/HI ← buffer PA, STREAM_ID ← the driver's stream, COMMAND ← 1 READ / 2 WRITE /
 * 3 FLUSH; then STATUS must read Done (2) and DONE_SECTORS the count.
 *
 * SIMPLIFICATION: completion is polled, never waited for. With the device's default latency
 * (latencyCycles = 0) a command completes during the COMMAND write, so the first STATUS read sees
 * it. The model has no sleeping on I/O yet (no completion interrupt handler, no parked task woken by
 * the device): with a non-zero latency STATUS stays Busy (the device only advances between
 * scheduler steps) and the request fails with EIO after MAX_STATUS_POLLS reads.
 */
import {
  BlockCommand,
  BlockReg,
  BlockStatus,
  BLOCK_DEVICE_ID,
  SECTOR_BYTES,
} from '../../hw/devices/block.js';
import type { ProcessingElement } from '../../hw/pe.js';
import { Errno } from '../uapi/errno.js';
import { BlockCost } from './costs.js';

/** STATUS reads before a command still Busy is given up (EIO). */
export const MAX_STATUS_POLLS = 16;

/** What the device reports about itself (ID, SECTOR_SIZE, CAPACITY_LO/HI, MAX_SECTORS). */
export interface BlockGeometry {
  /** Capacity in 512-byte sectors. */
  readonly capacity: number;
  /** Largest COUNT of one command. */
  readonly maxSectors: number;
}

/** Statistics of the driver. */
export interface BlockDriverStats {
  /** Commands issued (READ, WRITE, FLUSH). */
  commands: number;
  sectorsRead: number;
  sectorsWritten: number;
  flushes: number;
  /** Commands that ended with a STATUS other than Done, or a faulting register access. */
  errors: number;
  /** STATUS reads that found the command still Busy. */
  busyPolls: number;
}

/** Unit and description of each driver counter. */
export const BLOCK_DRIVER_STAT_INFO: Readonly<
  Record<keyof BlockDriverStats, { unit: string; description: string }>
> = {
  commands: { unit: 'commands', description: 'commands written to COMMAND' },
  sectorsRead: { unit: 'sectors', description: 'sectors read from the device into memory' },
  sectorsWritten: { unit: 'sectors', description: 'sectors written from memory to the device' },
  flushes: { unit: 'commands', description: 'FLUSH commands completed' },
  errors: { unit: 'commands', description: 'commands that failed (STATUS not Done, register fault)' },
  busyPolls: { unit: 'reads', description: 'STATUS reads that found the command in flight' },
};

/** A polled driver of the block device's register window. */
export class BlockDriver {
  /** Kernel VA of the register window. */
  readonly windowVa: number;
  /** SMMU StreamID written to STREAM_ID (unused while the SMMU is in bypass). */
  readonly streamId: number;
  readonly stats: BlockDriverStats = {
    commands: 0,
    sectorsRead: 0,
    sectorsWritten: 0,
    flushes: 0,
    errors: 0,
    busyPolls: 0,
  };
  private geometry: BlockGeometry | undefined;

  constructor(windowVa: number, streamId = 0) {
    this.windowVa = windowVa;
    this.streamId = streamId;
  }

  /**
   * The device's geometry, read once from ID, SECTOR_SIZE, CAPACITY_LO/HI and MAX_SECTORS through
   * `pe`: -ENODEV when the window does not hold a "BLK1" device with 512-byte sectors.
   */
  probe(pe: ProcessingElement): BlockGeometry | number {
    if (this.geometry !== undefined) return this.geometry;
    const id = this.load(pe, BlockReg.ID);
    const sectorSize = this.load(pe, BlockReg.SECTOR_SIZE);
    const low = this.load(pe, BlockReg.CAPACITY_LO);
    const high = this.load(pe, BlockReg.CAPACITY_HI);
    const maxSectors = this.load(pe, BlockReg.MAX_SECTORS);
    if (id !== BLOCK_DEVICE_ID || sectorSize !== SECTOR_BYTES || low === undefined || high === undefined)
      return -Errno.ENODEV;
    if (maxSectors === undefined || maxSectors < 1) return -Errno.ENODEV;
    this.geometry = { capacity: high * 2 ** 32 + low, maxSectors };
    return this.geometry;
  }

  /** READ `count` sectors from `sector` into memory at `pa`: 0, or -EIO / -ENODEV. */
  read(pe: ProcessingElement, sector: number, count: number, pa: number): number {
    return this.transfer(pe, BlockCommand.Read, sector, count, pa);
  }

  /** WRITE `count` sectors at `sector` from memory at `pa`: 0, or -EIO / -ENODEV. */
  write(pe: ProcessingElement, sector: number, count: number, pa: number): number {
    return this.transfer(pe, BlockCommand.Write, sector, count, pa);
  }

  /** FLUSH the device's write cache: 0 or -EIO. */
  flush(pe: ProcessingElement): number {
    if (!this.issue(pe, BlockCommand.Flush, 0, 0, 0)) return -Errno.EIO;
    this.stats.flushes++;
    return 0;
  }

  /** A transfer of `count` sectors, split into commands of at most MAX_SECTORS. */
  private transfer(
    pe: ProcessingElement,
    command: BlockCommand,
    sector: number,
    count: number,
    pa: number,
  ): number {
    const geometry = this.probe(pe);
    if (typeof geometry === 'number') return geometry;
    if (count < 1 || sector < 0 || sector + count > geometry.capacity) return -Errno.EIO;
    for (let done = 0; done < count;) {
      const n = Math.min(geometry.maxSectors, count - done);
      if (!this.issue(pe, command, sector + done, n, pa + done * SECTOR_BYTES)) return -Errno.EIO;
      if (command === BlockCommand.Read) this.stats.sectorsRead += n;
      else this.stats.sectorsWritten += n;
      done += n;
    }
    return 0;
  }

  /** Program the registers for one command, start it and poll STATUS: true when it is Done. */
  private issue(
    pe: ProcessingElement,
    command: BlockCommand,
    sector: number,
    count: number,
    pa: number,
  ): boolean {
    pe.compute(BlockCost.command);
    this.stats.commands++;
    const ok =
      this.store(pe, BlockReg.SECTOR_LO, sector % 2 ** 32) &&
      this.store(pe, BlockReg.SECTOR_HI, Math.floor(sector / 2 ** 32)) &&
      this.store(pe, BlockReg.COUNT, count) &&
      this.store(pe, BlockReg.DMA_LO, pa % 2 ** 32) &&
      this.store(pe, BlockReg.DMA_HI, Math.floor(pa / 2 ** 32)) &&
      this.store(pe, BlockReg.STREAM_ID, this.streamId) &&
      this.store(pe, BlockReg.COMMAND, command);
    if (!ok) return this.failed();
    for (let poll = 0; poll < MAX_STATUS_POLLS; poll++) {
      const status = this.load(pe, BlockReg.STATUS);
      if (status === BlockStatus.Busy) {
        this.stats.busyPolls++;
        pe.compute(BlockCost.poll);
        continue;
      }
      if (status !== BlockStatus.Done) return this.failed();
      const done = this.load(pe, BlockReg.DONE_SECTORS);
      return done === count || command === BlockCommand.Flush ? true : this.failed();
    }
    return this.failed();
  }

  private failed(): false {
    this.stats.errors++;
    return false;
  }

  /** A register read; undefined when the access faulted. */
  private load(pe: ProcessingElement, reg: number): number | undefined {
    const value = pe.load32(this.windowVa + reg);
    return pe.lastFault === 0 ? value : undefined;
  }

  private store(pe: ProcessingElement, reg: number, value: number): boolean {
    return pe.store32(this.windowVa + reg, value);
  }
}
