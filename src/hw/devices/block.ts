/**
 * A DMA block device: 512-byte sectors moved between a sparse backing store and memory through the
 * SMMU, programmed through a small MMIO register window.
 *
 * Register window ({@link BlockReg}, 32-bit registers, 4 KiB):
 *
 * | offset | name | access | meaning |
 * |---|---|---|---|
 * | 0x00 | ID | RO | 0x424c4b31 ("BLK1") |
 * | 0x04 | CAPACITY_LO | RO | capacity in sectors, bits [31:0] |
 * | 0x08 | CAPACITY_HI | RO | capacity in sectors, bits [63:32] |
 * | 0x0c | SECTOR_SIZE | RO | 512 |
 * | 0x10 | MAX_SECTORS | RO | largest COUNT one command accepts |
 * | 0x14 | SECTOR_LO | RW | first sector, bits [31:0] |
 * | 0x18 | SECTOR_HI | RW | first sector, bits [63:32] |
 * | 0x1c | COUNT | RW | sectors to transfer (1..MAX_SECTORS) |
 * | 0x20 | DMA_LO | RW | I/O virtual address of the buffer, bits [31:0] |
 * | 0x24 | DMA_HI | RW | bits [63:32] (two's complement: a set bit 63 selects the TTB1 range) |
 * | 0x28 | STREAM_ID | RW | SMMU StreamID the device's DMA carries |
 * | 0x2c | COMMAND | WO | 1 READ (disk → memory), 2 WRITE (memory → disk), 3 FLUSH; the write starts it |
 * | 0x30 | STATUS | RO | {@link BlockStatus} of the last command |
 * | 0x34 | DONE_SECTORS | RO | sectors the last command transferred |
 * | 0x38 | IRQ_ENABLE | RW | bit 0: raise the interrupt line on completion |
 * | 0x3c | IRQ_STATUS | RW1C | bit 0: a command completed; writing 1 clears it and lowers the line |
 *
 * Timing: a command completes `latencyCycles` after it is issued, measured on the clock the machine
 * gives the device (the interrupt target PE's cycle counter); with latency 0 it completes during the
 * COMMAND write. The DMA is made at completion. Nothing depends on wall-clock time.
 * The disk contents are device-side data (not simulated memory); a sector never written reads as
 * zeros, and an all-zero sector is not stored.
 */
import { z } from 'zod';
import { EXTERNAL_ABORT, type MmioHandler } from '../memory.js';
import type { DmaPort } from '../smmu.js';

/** Sector size in bytes. */
export const SECTOR_BYTES = 512;
/** Size of the register window. */
export const BLOCK_WINDOW_BYTES = 0x1000;
/** Value of the ID register ("BLK1"). */
export const BLOCK_DEVICE_ID = 0x424c_4b31;

/** Register offsets of the block device. */
export const BlockReg = {
  ID: 0x00,
  CAPACITY_LO: 0x04,
  CAPACITY_HI: 0x08,
  SECTOR_SIZE: 0x0c,
  MAX_SECTORS: 0x10,
  SECTOR_LO: 0x14,
  SECTOR_HI: 0x18,
  COUNT: 0x1c,
  DMA_LO: 0x20,
  DMA_HI: 0x24,
  STREAM_ID: 0x28,
  COMMAND: 0x2c,
  STATUS: 0x30,
  DONE_SECTORS: 0x34,
  IRQ_ENABLE: 0x38,
  IRQ_STATUS: 0x3c,
} as const;

/** Commands written to COMMAND. */
export const BlockCommand = { Read: 1, Write: 2, Flush: 3 } as const;
/** A block command code. */
export type BlockCommand = (typeof BlockCommand)[keyof typeof BlockCommand];

/** Values of STATUS. */
export const BlockStatus = {
  /** No command issued yet. */
  Idle: 0,
  /** A command is in flight (only with latencyCycles > 0). */
  Busy: 1,
  Done: 2,
  /** The SMMU refused a DMA access (translation, permission or GPC fault). */
  DmaError: 3,
  /** Sector range outside the disk, or COUNT outside 1..MAX_SECTORS. */
  RangeError: 4,
  /** Unknown command code. */
  BadCommand: 5,
} as const;
/** A STATUS value. */
export type BlockStatus = (typeof BlockStatus)[keyof typeof BlockStatus];

/** Schema of the block-device parameters, with documented defaults. */
export const blockDeviceParamsSchema = z.object({
  /** Capacity in 512-byte sectors (default 1 GiB). */
  sectors: z
    .number()
    .int()
    .positive()
    .max(2 ** 44)
    .default(2 ** 21),
  /** Largest COUNT a command accepts (default 256 sectors = 128 KiB). */
  maxSectorsPerCommand: z
    .number()
    .int()
    .min(1)
    .max(1 << 16)
    .default(256),
  /** Cycles from COMMAND to completion on the device's clock (0: complete during the write). */
  latencyCycles: z.number().nonnegative().default(0),
});
/** Block-device parameters as a caller gives them. */
export type BlockDeviceParamsInput = z.input<typeof blockDeviceParamsSchema>;
/** Block-device parameters after validation. */
export type BlockDeviceParams = z.output<typeof blockDeviceParamsSchema>;

/** Connections of a block device. */
export interface BlockDeviceOptions {
  /** Level-sensitive interrupt output (e.g. a PE's IRQ input through the machine). */
  readonly irq?: (level: boolean) => void;
  /** The clock latency is measured on, in cycles (default: always 0). */
  readonly clock?: () => number;
}

/** Statistics counters of the block device. */
export interface BlockDeviceStats {
  commands: number;
  reads: number;
  writes: number;
  flushes: number;
  sectorsRead: number;
  sectorsWritten: number;
  dmaErrors: number;
  /** Commands refused: issued while busy, bad range or bad code. */
  rejected: number;
  interrupts: number;
}

/** Unit and description of each block-device counter. */
export const BLOCK_STAT_INFO: Readonly<
  Record<keyof BlockDeviceStats, { unit: string; description: string }>
> = {
  commands: { unit: 'commands', description: 'commands written to COMMAND' },
  reads: { unit: 'commands', description: 'READ commands completed (disk to memory)' },
  writes: { unit: 'commands', description: 'WRITE commands completed (memory to disk)' },
  flushes: { unit: 'commands', description: 'FLUSH commands completed' },
  sectorsRead: { unit: 'sectors', description: 'sectors moved from disk to memory' },
  sectorsWritten: { unit: 'sectors', description: 'sectors moved from memory to disk' },
  dmaErrors: { unit: 'commands', description: 'commands ended by an SMMU fault' },
  rejected: { unit: 'commands', description: 'commands refused (busy, bad range, bad code)' },
  interrupts: { unit: 'interrupts', description: 'completion interrupts raised' },
};

interface PendingCommand {
  readonly command: BlockCommand;
  readonly sector: number;
  readonly count: number;
  readonly streamId: number;
  readonly iova: number;
  readonly dueAt: number;
}

/** A DMA block device with an MMIO register window. */
export class BlockDevice implements MmioHandler {
  readonly params: BlockDeviceParams;
  readonly name = 'block';
  readonly stats: BlockDeviceStats = {
    commands: 0,
    reads: 0,
    writes: 0,
    flushes: 0,
    sectorsRead: 0,
    sectorsWritten: 0,
    dmaErrors: 0,
    rejected: 0,
    interrupts: 0,
  };

  private readonly dma: DmaPort;
  private readonly irq: ((level: boolean) => void) | undefined;
  private readonly clock: () => number;
  /** Sector number → 512 bytes; absent sectors are zero. */
  private readonly store = new Map<number, Uint8Array>();
  private sectorLow = 0;
  private sectorHigh = 0;
  private count = 0;
  private dmaLow = 0;
  private dmaHigh = 0;
  private streamId = 0;
  private statusValue: BlockStatus = BlockStatus.Idle;
  private doneSectors = 0;
  private irqEnable = 0;
  private irqStatus = 0;
  private irqLevel = false;
  private pending: PendingCommand | undefined;

  constructor(input: BlockDeviceParamsInput, dma: DmaPort, options: BlockDeviceOptions = {}) {
    const parsed = blockDeviceParamsSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new RangeError(`block device parameters: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
    }
    this.params = parsed.data;
    this.dma = dma;
    this.irq = options.irq;
    this.clock = options.clock ?? (() => 0);
  }

  /** STATUS of the last command. */
  get status(): BlockStatus {
    return this.statusValue;
  }

  // -------------------------------------------------------------- MMIO window

  /** Read a register; EXTERNAL_ABORT for an offset with none. */
  read32(offset: number): number {
    switch (offset) {
      case BlockReg.ID:
        return BLOCK_DEVICE_ID;
      case BlockReg.CAPACITY_LO:
        return this.params.sectors % 2 ** 32;
      case BlockReg.CAPACITY_HI:
        return Math.floor(this.params.sectors / 2 ** 32);
      case BlockReg.SECTOR_SIZE:
        return SECTOR_BYTES;
      case BlockReg.MAX_SECTORS:
        return this.params.maxSectorsPerCommand;
      case BlockReg.SECTOR_LO:
        return this.sectorLow;
      case BlockReg.SECTOR_HI:
        return this.sectorHigh;
      case BlockReg.COUNT:
        return this.count;
      case BlockReg.DMA_LO:
        return this.dmaLow;
      case BlockReg.DMA_HI:
        return this.dmaHigh;
      case BlockReg.STREAM_ID:
        return this.streamId;
      case BlockReg.COMMAND:
        return 0;
      case BlockReg.STATUS:
        return this.statusValue;
      case BlockReg.DONE_SECTORS:
        return this.doneSectors;
      case BlockReg.IRQ_ENABLE:
        return this.irqEnable;
      case BlockReg.IRQ_STATUS:
        return this.irqStatus;
      default:
        return EXTERNAL_ABORT;
    }
  }

  /** Write a register; false for an offset with none. */
  write32(offset: number, value: number): boolean {
    value >>>= 0;
    switch (offset) {
      case BlockReg.SECTOR_LO:
        this.sectorLow = value;
        return true;
      case BlockReg.SECTOR_HI:
        this.sectorHigh = value;
        return true;
      case BlockReg.COUNT:
        this.count = value;
        return true;
      case BlockReg.DMA_LO:
        this.dmaLow = value;
        return true;
      case BlockReg.DMA_HI:
        this.dmaHigh = value;
        return true;
      case BlockReg.STREAM_ID:
        this.streamId = value;
        return true;
      case BlockReg.COMMAND:
        this.issue(value);
        return true;
      case BlockReg.IRQ_ENABLE:
        this.irqEnable = value & 1;
        this.updateIrq();
        return true;
      case BlockReg.IRQ_STATUS:
        this.irqStatus &= ~value & 1; // write 1 to clear
        this.updateIrq();
        return true;
      case BlockReg.ID:
      case BlockReg.CAPACITY_LO:
      case BlockReg.CAPACITY_HI:
      case BlockReg.SECTOR_SIZE:
      case BlockReg.MAX_SECTORS:
      case BlockReg.STATUS:
      case BlockReg.DONE_SECTORS:
        return true; // read-only: writes ignored
      default:
        return false;
    }
  }

  // -------------------------------------------------------------- commands

  /** Start the command written to COMMAND with the current register values. */
  private issue(code: number): void {
    this.stats.commands++;
    if (this.pending !== undefined) {
      // The device accepts one command at a time; a second one while busy is dropped.
      this.stats.rejected++;
      return;
    }
    if (code !== BlockCommand.Read && code !== BlockCommand.Write && code !== BlockCommand.Flush) {
      this.stats.rejected++;
      this.complete(BlockStatus.BadCommand, 0);
      return;
    }
    const sector = this.sectorHigh * 2 ** 32 + this.sectorLow;
    const count = code === BlockCommand.Flush ? 0 : this.count;
    if (
      code !== BlockCommand.Flush &&
      (count < 1 || count > this.params.maxSectorsPerCommand || sector + count > this.params.sectors)
    ) {
      this.stats.rejected++;
      this.complete(BlockStatus.RangeError, 0);
      return;
    }
    this.pending = {
      command: code,
      sector,
      count,
      streamId: this.streamId,
      iova: (this.dmaHigh | 0) * 2 ** 32 + this.dmaLow,
      dueAt: this.clock() + this.params.latencyCycles,
    };
    this.statusValue = BlockStatus.Busy;
    this.update();
  }

  /**
   * Complete the command in flight if its latency has elapsed on the device's clock. The machine's
   * scheduler calls this (with latency 0 every command completes as it is issued).
   */
  update(): void {
    const command = this.pending;
    if (command === undefined || this.clock() < command.dueAt) return;
    this.pending = undefined;
    switch (command.command) {
      case BlockCommand.Read:
        this.runRead(command);
        break;
      case BlockCommand.Write:
        this.runWrite(command);
        break;
      case BlockCommand.Flush:
        // Writes reach the backing store as they complete: there is nothing to flush.
        this.stats.flushes++;
        this.complete(BlockStatus.Done, 0);
        break;
    }
  }

  /** Cycle at which the command in flight completes, or undefined when idle (for the scheduler). */
  nextEventCycle(): number | undefined {
    return this.pending?.dueAt;
  }

  /** READ: disk → memory, one DMA write of the whole buffer. */
  private runRead(command: PendingCommand): void {
    const data = this.readStore(command.sector, command.count);
    const result = this.dma.dmaWrite(command.streamId, command.iova, data);
    if (!result.ok) {
      this.stats.dmaErrors++;
      const sectors = Math.floor(result.bytesDone / SECTOR_BYTES);
      this.stats.sectorsRead += sectors;
      this.complete(BlockStatus.DmaError, sectors);
      return;
    }
    this.stats.reads++;
    this.stats.sectorsRead += command.count;
    this.complete(BlockStatus.Done, command.count);
  }

  /** WRITE: memory → disk; a DMA fault leaves the disk unchanged. */
  private runWrite(command: PendingCommand): void {
    const result = this.dma.dmaRead(command.streamId, command.iova, command.count * SECTOR_BYTES);
    if (!result.ok) {
      this.stats.dmaErrors++;
      this.complete(BlockStatus.DmaError, 0);
      return;
    }
    this.writeStore(command.sector, result.data);
    this.stats.writes++;
    this.stats.sectorsWritten += command.count;
    this.complete(BlockStatus.Done, command.count);
  }

  private complete(status: BlockStatus, sectors: number): void {
    this.statusValue = status;
    this.doneSectors = sectors;
    this.irqStatus = 1;
    this.updateIrq();
  }

  private updateIrq(): void {
    const level = (this.irqEnable & this.irqStatus) !== 0;
    if (level === this.irqLevel) return;
    this.irqLevel = level;
    if (level) this.stats.interrupts++;
    this.irq?.(level);
  }

  // -------------------------------------------------------------- backing store (device side)

  /**
   * Read `count` sectors of the backing store directly (device-side access for disk images and
   * inspection, not a DMA).
   */
  readStore(sector: number, count: number): Uint8Array {
    this.checkRange(sector, count);
    const out = new Uint8Array(count * SECTOR_BYTES);
    for (let i = 0; i < count; i++) {
      const data = this.store.get(sector + i);
      if (data !== undefined) out.set(data, i * SECTOR_BYTES);
    }
    return out;
  }

  /** Write whole sectors of the backing store directly (`data.length` a multiple of 512). */
  writeStore(sector: number, data: Uint8Array): void {
    if (data.length % SECTOR_BYTES !== 0) {
      throw new RangeError(`block device: ${data.length} bytes is not a whole number of sectors`);
    }
    const count = data.length / SECTOR_BYTES;
    this.checkRange(sector, count);
    for (let i = 0; i < count; i++) {
      const bytes = data.slice(i * SECTOR_BYTES, (i + 1) * SECTOR_BYTES);
      if (bytes.every((b) => b === 0)) this.store.delete(sector + i);
      else this.store.set(sector + i, bytes);
    }
  }

  /** Number of sectors holding non-zero data. */
  storedSectors(): number {
    return this.store.size;
  }

  private checkRange(sector: number, count: number): void {
    if (!Number.isSafeInteger(sector) || !Number.isSafeInteger(count) || sector < 0 || count < 0) {
      throw new RangeError(`block device: bad sector range (${sector}, ${count})`);
    }
    if (sector + count > this.params.sectors) {
      throw new RangeError(
        `block device: sectors ${sector}..${sector + count - 1} beyond ${this.params.sectors}`,
      );
    }
  }
}
