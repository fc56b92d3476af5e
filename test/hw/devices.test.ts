/**
 * Device tests: the block device moves sectors through its MMIO registers and SMMU DMA (and is
 * refused by the SMMU's GPC like any DMA); the generic timer fires at the programmed cycle and
 * honours ENABLE and IMASK; interrupt lines of several sources share a PE's IRQ input.
 */
import { describe, expect, it } from 'vitest';
import { BlockCommand, BlockReg, BlockStatus, SECTOR_BYTES } from '../../src/hw/devices/block.js';
import { CntpCtl } from '../../src/hw/devices/timer.js';
import { IrqSource, Machine, type MachineParamsInput } from '../../src/hw/machine.js';
import { Gpi } from '../../src/hw/pas.js';
import { SmmuBits, SmmuFault, SmmuReg } from '../../src/hw/smmu.js';

const DRAM = 0x8000_0000;
const GPT_L0 = 0xbff0_0000;
const GPT_L1 = 0xbfe0_0000;
const GPCCR = 0x1_3500; // PPS 4 GB, PGS 4 KB, L0GPTSZ 1 GB, Inner-shareable WB walks, GPC
const STRTAB = 0x8010_0000;
const BLOCK_SID = 3;
const BUF = 0x8050_0000;

/** A machine whose SMMU checks DMA against an all-Non-secure GPT and bypasses stream 3. */
function makeMachine(extra: Partial<MachineParamsInput> = {}) {
  const machine = new Machine({ ...extra });
  const memory = machine.memory;
  for (const i of [0, 1, 3]) memory.write64(GPT_L0 + 8 * i, 0x91, 0);
  memory.write64(GPT_L0 + 16, (GPT_L1 | 0b11) >>> 0, 0);
  memory.fill(GPT_L1, 0x2_0000, 0x99);
  const setGpi = (pa: number, gpi: number): void => {
    const offset = pa - DRAM;
    const half = GPT_L1 + 8 * Math.floor(offset / 0x1_0000) + (Math.floor(offset / 4096) % 16 < 8 ? 0 : 4);
    const shift = 4 * (Math.floor(offset / 4096) % 8);
    memory.write32(half, ((memory.read32(half) & ~(0xf << shift)) | (gpi << shift)) >>> 0);
  };
  const smmu = machine.smmu;
  smmu.write64(SmmuReg.ROOT_GPT_BASE_CFG, GPCCR);
  smmu.write64(SmmuReg.ROOT_GPT_BASE, GPT_L0);
  smmu.write32(SmmuReg.ROOT_CR0, SmmuBits.ROOT_CR0_GPCEN | SmmuBits.ROOT_CR0_ACCESSEN);
  smmu.write64(SmmuReg.STRTAB_BASE, STRTAB);
  smmu.write32(SmmuReg.STRTAB_BASE_CFG, 4);
  memory.write64(STRTAB + 64 * BLOCK_SID, 0x1 | (0b100 << 1), 0); // bypass
  smmu.write32(SmmuReg.CR0, SmmuBits.CR0_SMMUEN);
  const blockBase = machine.params.block.base;
  /** An MMIO register access on the physical bus, as a driver's store would arrive. */
  const reg = (offset: number, value?: number): number => {
    if (value === undefined) return memory.read32(blockBase + offset);
    expect(memory.write32(blockBase + offset, value)).toBe(true);
    return value;
  };
  const issue = (command: number, sector: number, count: number, iova: number): number => {
    reg(BlockReg.SECTOR_LO, sector);
    reg(BlockReg.SECTOR_HI, 0);
    reg(BlockReg.COUNT, count);
    reg(BlockReg.DMA_LO, iova % 2 ** 32);
    reg(BlockReg.DMA_HI, Math.floor(iova / 2 ** 32));
    reg(BlockReg.STREAM_ID, BLOCK_SID);
    reg(BlockReg.COMMAND, command);
    return reg(BlockReg.STATUS);
  };
  return { machine, memory, setGpi, reg, issue, pe: machine.pes[0]!, block: machine.block };
}

function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (seed * 31 + i * 13) & 0xff;
  return out;
}

describe('block device', () => {
  it('identifies itself through its registers', () => {
    const { reg, block } = makeMachine();
    expect(reg(BlockReg.ID)).toBe(0x424c_4b31);
    expect(reg(BlockReg.SECTOR_SIZE)).toBe(SECTOR_BYTES);
    expect(reg(BlockReg.CAPACITY_LO) + reg(BlockReg.CAPACITY_HI) * 2 ** 32).toBe(block.params.sectors);
    expect(reg(BlockReg.STATUS)).toBe(BlockStatus.Idle);
    expect(reg(0xff0)).toBe(-1);
  });

  it('round trip: WRITE memory → disk, then READ disk → another buffer, through MMIO and DMA', () => {
    const { memory, reg, issue, pe, block, machine } = makeMachine();
    const data = pattern(8 * SECTOR_BYTES, 1);
    const source = BUF + 0x200; // crosses a page boundary
    memory.writeBytes(source, data);
    reg(BlockReg.IRQ_ENABLE, 1);
    expect(issue(BlockCommand.Write, 100, 8, source)).toBe(BlockStatus.Done);
    expect(reg(BlockReg.DONE_SECTORS)).toBe(8);
    expect(block.readStore(100, 8)).toEqual(data);
    expect(block.readStore(99, 1)).toEqual(new Uint8Array(SECTOR_BYTES));
    // Completion interrupt on PE 0, cleared by writing 1 to IRQ_STATUS.
    expect(reg(BlockReg.IRQ_STATUS)).toBe(1);
    expect(pe.irqPending).toBe(true);
    expect(machine.irqSources(0)).toBe(1 << IrqSource.Block);
    reg(BlockReg.IRQ_STATUS, 1);
    expect(pe.irqPending).toBe(false);

    const target = BUF + 0x3000;
    expect(issue(BlockCommand.Read, 100, 8, target)).toBe(BlockStatus.Done);
    expect(memory.readBytes(target, data.length)).toEqual(data);
    expect(block.stats).toMatchObject({
      writes: 1,
      reads: 1,
      sectorsRead: 8,
      sectorsWritten: 8,
      interrupts: 2,
    });
    expect(machine.smmu.stats.bytesWritten).toBe(data.length);
    expect(machine.smmu.stats.bytesRead).toBe(data.length);
  });

  it('a PE driver reaches the registers through its own load/store path', () => {
    const { memory, pe, block, machine } = makeMachine();
    // The PE is at EL3 with its MMU off and GPC off: flat Root-PAS accesses reach the window.
    const base = machine.params.block.base;
    block.writeStore(7, pattern(SECTOR_BYTES, 9));
    pe.store32(base + BlockReg.SECTOR_LO, 7);
    pe.store32(base + BlockReg.COUNT, 1);
    pe.store32(base + BlockReg.DMA_LO, BUF);
    pe.store32(base + BlockReg.STREAM_ID, BLOCK_SID);
    pe.store32(base + BlockReg.COMMAND, BlockCommand.Read);
    expect(pe.load32(base + BlockReg.STATUS)).toBe(BlockStatus.Done);
    expect(memory.readBytes(BUF, SECTOR_BYTES)).toEqual(pattern(SECTOR_BYTES, 9));
  });

  it('a READ into a granule closed in the SMMU’s GPT fails with DMA_ERROR and writes nothing', () => {
    const { memory, setGpi, issue, reg, machine, block } = makeMachine();
    block.writeStore(0, pattern(2 * SECTOR_BYTES, 4));
    setGpi(BUF, Gpi.Root);
    expect(issue(BlockCommand.Read, 0, 2, BUF)).toBe(BlockStatus.DmaError);
    expect(reg(BlockReg.DONE_SECTORS)).toBe(0);
    expect(memory.readBytes(BUF, 4096)).toEqual(new Uint8Array(4096));
    expect(machine.smmu.faultLog().at(-1)?.kind).toBe(SmmuFault.Gpc);
    // A WRITE from the closed granule leaves the disk unchanged.
    expect(issue(BlockCommand.Write, 0, 1, BUF)).toBe(BlockStatus.DmaError);
    expect(block.readStore(0, 2)).toEqual(pattern(2 * SECTOR_BYTES, 4));
    expect(block.stats.dmaErrors).toBe(2);
  });

  it('refuses bad ranges and commands; FLUSH completes', () => {
    const { issue, reg, block } = makeMachine({ block: { sectors: 64, maxSectorsPerCommand: 8 } });
    expect(issue(BlockCommand.Read, 60, 8, BUF)).toBe(BlockStatus.RangeError);
    expect(issue(BlockCommand.Read, 0, 9, BUF)).toBe(BlockStatus.RangeError);
    expect(issue(BlockCommand.Read, 0, 0, BUF)).toBe(BlockStatus.RangeError);
    expect(issue(9, 0, 1, BUF)).toBe(BlockStatus.BadCommand);
    expect(issue(BlockCommand.Flush, 0, 0, BUF)).toBe(BlockStatus.Done);
    expect(reg(BlockReg.MAX_SECTORS)).toBe(8);
    expect(block.stats.rejected).toBe(4);
    expect(() => block.readStore(60, 8)).toThrow(RangeError);
  });

  it('with a latency, completes when the clock (the IRQ PE’s cycles) reaches it', () => {
    const { memory, issue, reg, pe, machine, block } = makeMachine({ block: { latencyCycles: 1000 } });
    block.writeStore(5, pattern(SECTOR_BYTES, 2));
    reg(BlockReg.IRQ_ENABLE, 1);
    expect(issue(BlockCommand.Read, 5, 1, BUF)).toBe(BlockStatus.Busy);
    expect(block.nextEventCycle()).toBe(pe.cycles + 1000);
    expect(issue(BlockCommand.Read, 5, 1, BUF + 0x1000)).toBe(BlockStatus.Busy); // dropped: busy
    pe.compute(999);
    machine.updateDevices();
    expect(reg(BlockReg.STATUS)).toBe(BlockStatus.Busy);
    expect(memory.readBytes(BUF, SECTOR_BYTES)).toEqual(new Uint8Array(SECTOR_BYTES)); // DMA at completion
    pe.compute(1);
    machine.updateDevices();
    expect(reg(BlockReg.STATUS)).toBe(BlockStatus.Done);
    expect(memory.readBytes(BUF, SECTOR_BYTES)).toEqual(pattern(SECTOR_BYTES, 2));
    expect(memory.readBytes(BUF + 0x1000, SECTOR_BYTES)).toEqual(new Uint8Array(SECTOR_BYTES));
    expect(pe.irqPending).toBe(true);
    expect(block.stats.rejected).toBe(1);
  });

  it('keeps the backing store sparse', () => {
    const { block } = makeMachine();
    block.writeStore(3, pattern(2 * SECTOR_BYTES, 1));
    expect(block.storedSectors()).toBe(2);
    block.writeStore(3, new Uint8Array(SECTOR_BYTES));
    expect(block.storedSectors()).toBe(1);
    expect(() => block.writeStore(0, new Uint8Array(100))).toThrow(RangeError);
  });
});

describe('generic timer', () => {
  it('counts at 50 MHz: 36 cycles per tick on the 1.8 GHz cortex-a72 profile', () => {
    const machine = new Machine({});
    const timer = machine.timers[0]!;
    expect(timer.cyclesPerTick).toBe(36);
    machine.pes[0]!.compute(36 * 10 + 35);
    expect(timer.counter()).toBe(10);
    expect(new Machine({ cpu: 'fvp' }).timers[0]!.cyclesPerTick).toBe(2);
    expect(new Machine({ timer: { counterHz: 100e6 } }).timers[0]!.cyclesPerTick).toBe(18);
  });

  it('fires when the count reaches CVAL, and not a cycle earlier', () => {
    const machine = new Machine({});
    const pe = machine.pes[0]!;
    const timer = machine.timers[0]!;
    pe.setSysRegRaw('CNTP_CVAL_EL0', 100, 0);
    pe.setSysRegRaw('CNTP_CTL_EL0', CntpCtl.ENABLE, 0);
    expect(timer.nextFireCycle()).toBe(3600);
    expect(timer.update()).toBe(false);
    pe.compute(3599);
    machine.updateDevices();
    expect(timer.asserted).toBe(false);
    expect(pe.regs.low('CNTP_CTL_EL0') & CntpCtl.ISTATUS).toBe(0);
    expect(pe.irqPending).toBe(false);
    pe.compute(1);
    machine.updateDevices();
    expect(timer.asserted).toBe(true);
    expect(pe.regs.low('CNTP_CTL_EL0') & CntpCtl.ISTATUS).toBe(CntpCtl.ISTATUS);
    expect(pe.irqPending).toBe(true);
    expect(machine.irqSources(0)).toBe(1 << IrqSource.Timer);
    expect(timer.stats.fires).toBe(1);
    // Moving CVAL forward clears the condition (the usual way a kernel rearms the tick).
    pe.setSysRegRaw('CNTP_CVAL_EL0', 200, 0);
    expect(timer.update()).toBe(false);
    expect(pe.irqPending).toBe(false);
  });

  it('IMASK masks the interrupt but not ISTATUS; ENABLE = 0 stops it', () => {
    const machine = new Machine({});
    const pe = machine.pes[0]!;
    const timer = machine.timers[0]!;
    pe.setSysRegRaw('CNTP_CVAL_EL0', 1, 0);
    pe.setSysRegRaw('CNTP_CTL_EL0', CntpCtl.ENABLE | CntpCtl.IMASK, 0);
    pe.compute(100);
    expect(timer.update()).toBe(false);
    expect(pe.regs.low('CNTP_CTL_EL0') & CntpCtl.ISTATUS).toBe(CntpCtl.ISTATUS);
    expect(pe.irqPending).toBe(false);
    pe.setSysRegRaw('CNTP_CTL_EL0', CntpCtl.ENABLE, 0);
    expect(timer.update()).toBe(true);
    expect(pe.irqPending).toBe(true);
    pe.setSysRegRaw('CNTP_CTL_EL0', 0, 0);
    expect(timer.update()).toBe(false);
    expect(pe.regs.low('CNTP_CTL_EL0') & CntpCtl.ISTATUS).toBe(0);
    expect(pe.irqPending).toBe(false);
    expect(timer.nextFireCycle()).toBeUndefined();
  });

  it('software programs the timer with MSR', () => {
    const machine = new Machine({});
    const pe = machine.pes[0]!;
    expect(pe.msr('CNTP_CVAL_EL0', 2, 0)).toBe(true);
    expect(pe.msr('CNTP_CTL_EL0', CntpCtl.ENABLE, 0)).toBe(true);
    pe.compute(72 - pe.cycles);
    expect(machine.timers[0]!.update()).toBe(true);
  });

  it('each PE has its own timer', () => {
    const machine = new Machine({ pes: 2 });
    const [pe0, pe1] = machine.pes as [(typeof machine.pes)[0], (typeof machine.pes)[0]];
    pe1.setSysRegRaw('CNTP_CVAL_EL0', 1, 0);
    pe1.setSysRegRaw('CNTP_CTL_EL0', CntpCtl.ENABLE, 0);
    pe1.compute(36);
    machine.updateDevices();
    expect(pe1.irqPending).toBe(true);
    expect(pe0.irqPending).toBe(false);
    expect(machine.timers[1]!.name).toBe('pe1.timer');
  });
});

describe('interrupt lines', () => {
  it('the timer and the block device share PE 0’s IRQ input; the line stays up until both drop', () => {
    const { machine, pe, reg, issue } = makeMachine();
    pe.setSysRegRaw('CNTP_CVAL_EL0', 0, 0);
    pe.setSysRegRaw('CNTP_CTL_EL0', CntpCtl.ENABLE, 0);
    machine.updateDevices();
    reg(BlockReg.IRQ_ENABLE, 1);
    issue(BlockCommand.Flush, 0, 0, 0);
    expect(machine.irqSources(0)).toBe((1 << IrqSource.Timer) | (1 << IrqSource.Block));
    pe.setSysRegRaw('CNTP_CTL_EL0', 0, 0);
    machine.updateDevices();
    expect(pe.irqPending).toBe(true); // the block device still asserts its line
    reg(BlockReg.IRQ_STATUS, 1);
    expect(pe.irqPending).toBe(false);
    expect(machine.irqSources(0)).toBe(0);
  });

  it('rejects an interrupt target PE that does not exist', () => {
    expect(() => new Machine({ block: { irqPe: 1 } })).toThrow(/block.irqPe/);
  });
});
