/**
 * Monitor boot (src/firmware/monitor.ts): the state every PE is left in, the Priv-GPT it builds
 * (checked through the PE's GPC), the images and the boot information the mini-OS reads through
 * its own load path, the SMMU's Root page, determinism, EL3 panics and bad input.
 */
import { describe, expect, it } from 'vitest';
import { Machine } from '../../src/hw/machine.js';
import { Gpi, Pas } from '../../src/hw/pas.js';
import { SmmuReg } from '../../src/hw/smmu.js';
import { verifyPlatformToken } from '../../src/firmware/attestation.js';
import { decodeBootInfo } from '../../src/firmware/boot-info.js';
import { bootMonitor, privGptRegions } from '../../src/firmware/monitor.js';
import { MINIOS_ENTRY_SPSR, RC_LEAVE_MINIOS } from '../../src/firmware/rc-service.js';
import { bootFixture, buildView, canRead, gptBase, IMAGES, MIB, smc } from './helpers.js';

describe('bootMonitor', () => {
  it('leaves every PE at EL1 in the mini-OS, Non-secure, Priv-GPT active, X0 = boot info, X1 = PE', () => {
    const fx = bootFixture({ pes: 2 });
    const { fw } = fx;
    expect(fx.entries.map((e) => [e.pe, e.x[0], e.x[1], e.el, e.irqMasked, e.gptBase])).toEqual([
      [0, fw.bootInfoPa, 0, 1, true, fw.privGptBase],
      [1, fw.bootInfoPa, 1, 1, true, fw.privGptBase],
    ]);
    for (const pe of fx.machine.pes) {
      expect([pe.el, pe.pc, pe.securityState, pe.halted]).toEqual([
        1,
        fw.layout.miniosBootEntry,
        Pas.NonSecure,
        undefined,
      ]);
      expect(gptBase(pe)).toBe(fw.privGptBase);
      expect(pe.regs.number('VBAR_EL3')).toBe(fw.layout.vectors);
      expect(pe.regs.pair('SCR_EL3')).toEqual([0b100_0000_0001, 0]); // NS, RW; GPF = 0
      expect((pe.regs.low('GPCCR_EL3') >>> 16) & 1).toBe(1);
      expect(pe.regs.low('SPSR_EL3')).toBe(MINIOS_ENTRY_SPSR);
    }
    expect(fw.panics).toEqual([]);
  });

  it('builds the Priv-GPT: DRAM open except the Root region; SMMU Secure and Root pages protected', () => {
    const fx = bootFixture({
      dram: [
        { name: 'a', base: 0x8000_0000, size: 0x4000_0000 },
        { name: 'b', base: 0x8_8000_0000, size: 0x1000_0000 },
      ],
    });
    const { fw } = fx;
    const gpc = fx.pe.gpc;
    const ns = (pa: number): boolean => gpc.check(pa, Pas.NonSecure, Pas.NonSecure) === 0;
    const root = (pa: number): boolean => gpc.check(pa, Pas.Root, Pas.Root) === 0 && !ns(pa);
    const secure = (pa: number): boolean =>
      gpc.check(pa, Pas.Secure, Pas.Secure) === 0 && !ns(pa) && !root(pa);
    const { root: rootRegion, smmu, block } = fw.layout;
    expect([rootRegion.base, rootRegion.base + rootRegion.size - 4096, fw.privGptBase].every(root)).toBe(
      true,
    );
    expect(
      [rootRegion.base + rootRegion.size, 0xbfff_f000, 0x8_8000_0000, 0x8_8fff_f000, fw.bootInfoPa].every(ns),
    ).toBe(true);
    expect(
      [smmu.base, smmu.base + 0x7000, smmu.base + 0x9000, smmu.base + 0x1_0000, block.base].every(ns),
    ).toBe(true);
    expect(secure(smmu.base + 0x8000)).toBe(true);
    expect(root(smmu.base + 0x2_0000)).toBe(true);
    // Outside every region the GPT says ANY (as TF-A leaves unassigned memory).
    expect(gpc.check(0x4000_0000, Pas.Realm, Pas.Realm)).toBe(0);
    expect(privGptRegions(fw.layout).every((r) => r.map === 1)).toBe(true);
    // From EL1 the Root region faults (GPF at EL1: SCR_EL3.GPF = 0) and open DRAM does not.
    expect(canRead(fx.pe, fw.layout.root.base + 0x2000)).toBe(false);
    expect(fx.el1Faults.map((esr) => esr & 0x3f)).toEqual([0x28]);
    expect(canRead(fx.pe, 0x8_8000_0000)).toBe(true);
  });

  it('loads the images and hands the mini-OS its boot information in an open granule', () => {
    const fx = bootFixture();
    const { fw, pe } = fx;
    const read = (pa: number, length: number): Uint8Array => pe.readBytes(pa, length)!;
    expect(read(fw.layout.minios.base, IMAGES.minios.bytes.length)).toEqual(IMAGES.minios.bytes);
    expect(read(fw.layout.kernel.base, IMAGES.kernel.bytes.length)).toEqual(IMAGES.kernel.bytes);
    expect(fx.machine.memory.readBytes(fw.layout.firmwareImage.base, IMAGES.firmware.bytes.length)).toEqual(
      IMAGES.firmware.bytes,
    );
    const info = decodeBootInfo(read(fx.entries[0]!.x[0]!, 4096))!;
    expect(info).toEqual(fw.bootInfo);
    expect(info.sealingRoot).toEqual(fw.sealingRoot);
    expect(info.log.map((m) => m.component)).toEqual(['bl31', 'minios', 'kernel']);
    expect(info.bootChain).toEqual(fw.bootLog.chain);
    expect([info.privGptBase, info.rootBase, info.miniosEntryVa, info.peCount]).toEqual([
      fw.privGptBase,
      fw.layout.root.base,
      fw.layout.miniosEntryVa,
      1,
    ]);
    expect(info.privGptGpccr).toBe(pe.regs.low('GPCCR_EL3'));
    expect(
      verifyPlatformToken(info.platformPublicKey, info.bootChain, fw.miniosPublicKey, info.platformToken),
    ).toBe(true);
    expect(fw.attestationKey.verify(new Uint8Array([1]), fw.attestationKey.sign(new Uint8Array([1])))).toBe(
      true,
    );
  });

  it('programs the SMMU Root page with the Priv-GPT and enables GPCEN and ACCESSEN', () => {
    const fx = bootFixture();
    const smmu = fx.machine.smmu;
    expect(smmu.read64(SmmuReg.ROOT_GPT_BASE)).toBe(fx.fw.privGptBase);
    expect(smmu.read64(SmmuReg.ROOT_GPT_BASE_CFG)).toBe(fx.pe.regs.low('GPCCR_EL3') & ~(1 << 16));
    expect(smmu.read32(SmmuReg.ROOT_CR0)).toBe(3);
  });

  it('is deterministic in the seed; the sealing root follows the mini-OS measurement', () => {
    const a = bootFixture({}, { seed: 'one' }).fw;
    const b = bootFixture({}, { seed: 'one' }).fw;
    const c = bootFixture({}, { seed: 'two' }).fw;
    const d = bootFixture(
      {},
      { seed: 'one', images: { ...IMAGES, minios: { name: 'minios', bytes: new Uint8Array([9]) } } },
    ).fw;
    expect(b.bootInfo).toEqual(a.bootInfo);
    expect(c.publicKey).not.toEqual(a.publicKey);
    expect(c.sealingRoot).not.toEqual(a.sealingRoot);
    expect(c.bootLog).toEqual(a.bootLog);
    expect(d.publicKey).toEqual(a.publicKey);
    expect(d.sealingRoot).not.toEqual(a.sealingRoot);
    expect(d.bootLog.chain).not.toEqual(a.bootLog.chain);
  });

  it('a GPT walk fault reaching EL3 is a firmware panic that halts the PE', () => {
    const fx = bootFixture();
    const { fw, pe } = fx;
    const broken = buildView(fx.machine, 0x9000_0000, fw.layout.pps, [
      { ...fw.layout.root, gpi: Gpi.Root },
      { base: 0xa000_0000, size: 4096, gpi: 0xe }, // reserved GPI: GPT walk fault, always to EL3
    ]);
    expect(smc(pe, RC_LEAVE_MINIOS, broken.l0Base, fw.layout.kernel.base, 0b0101, 0)).toBe(0);
    expect(canRead(pe, 0xa000_0000)).toBe(false);
    expect(fw.panics).toHaveLength(1);
    expect(fw.panics[0]).toMatch(/^pe0: unhandled exception from a lower EL, ESR_EL3 0x7a/);
    expect(pe.halted).toMatch(/EL3 panic/);
  });

  it('refuses bad input with a clear error', () => {
    const big = { name: 'minios', bytes: new Uint8Array(8 * MIB) };
    expect(() => bootMonitor(new Machine({}), { images: { ...IMAGES, minios: big }, seed: 1 })).toThrow(
      /does not fit/,
    );
    expect(() =>
      bootMonitor(new Machine({}), {
        images: IMAGES,
        seed: 1,
        layout: { minios: { base: 0x8000_0000, size: MIB } },
      }),
    ).toThrow(/overlaps the Root region/);
    expect(() => bootMonitor(new Machine({}), { images: IMAGES, seed: 1, layout: { pgs: 1 } })).toThrow(
      /granule/,
    );
    const machine = new Machine({});
    bootMonitor(machine, { images: IMAGES, seed: 1, run: false });
    expect(() => bootMonitor(machine, { images: IMAGES, seed: 1 })).toThrow(/already holds code/);
  });

  it('without run, the PEs wait at the boot entry and nothing executed there', () => {
    const machine = new Machine({});
    const fw = bootMonitor(machine, { images: IMAGES, seed: 1, run: false });
    expect([machine.pes[0]!.el, machine.pes[0]!.pc, machine.pes[0]!.x[0]]).toEqual([
      1,
      fw.layout.miniosBootEntry,
      fw.bootInfoPa,
    ]);
    expect(machine.pes[0]!.halted).toBeUndefined();
  });
});
