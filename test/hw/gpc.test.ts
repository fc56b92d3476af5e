/**
 * Unit tests of the granule protection check (src/hw/gpc.ts): each step of the priority list of
 * spec/cca-hardware.md §3.5, the descriptor formats of §3.3-3.4, the access rule of §1.5, and the
 * worked examples V1-V8 of §8 (index arithmetic checked through `lookup()`).
 */
import { describe, expect, it } from 'vitest';
import {
  GPC_FAULT_NAMES,
  GranuleProtectionCheck,
  gpcFaultKind,
  gpcFaultLevel,
  type GpcResult,
} from '../../src/hw/gpc.js';
import { PhysicalMemory } from '../../src/hw/memory.js';
import { Gpi, Pas } from '../../src/hw/pas.js';
import {
  GIB,
  GptBuilder,
  gpccr,
  l0Block,
  l0Table,
  l1Contig,
  l1Uniform,
  type GpccrSpec,
  type GptGeometry,
} from './helpers.js';

const ALL_PAS = [Pas.Secure, Pas.NonSecure, Pas.Root, Pas.Realm] as const;

/** "ok" or "<kind> L<level>". */
function show(result: GpcResult): string {
  return result === 0 ? 'ok' : `${GPC_FAULT_NAMES[gpcFaultKind(result)]} L${gpcFaultLevel(result)}`;
}

/** DRAM below 4 GiB plus 4 GiB at 0x8_8000_0000 (the V1 granule lives there). */
function dram(): PhysicalMemory {
  return new PhysicalMemory([
    { name: 'low', base: 0x4000_0000, size: 0xc000_0000 },
    { name: 'high', base: 0x8_8000_0000, size: 0x1_0000_0000 },
  ]);
}

/** A configured GPC unit (a fresh one has an empty GPT-information cache). */
function unit(
  memory: PhysicalMemory,
  gpccrLow: number,
  gptbr: readonly [number, number],
  paRangeBits = 48,
): GranuleProtectionCheck {
  const gpc = new GranuleProtectionCheck(memory, paRangeBits);
  gpc.configure(gpccrLow, gptbr[0], gptbr[1]);
  return gpc;
}

const V_GEOMETRY: GptGeometry = { t: 40, p: 12, s: 30 };

/** t = 40, p = 12, s = 30 with L0 at 0x4000_0000: everything ANY except [1 GiB, 2 GiB) (an L1 table, all NS). */
function standardGpt(memory = dram()): GptBuilder {
  const gpt = new GptBuilder(memory, V_GEOMETRY, 0x4000_0000);
  gpt.fillL0Blocks(Gpi.Any);
  gpt.setL0Table(1, 0x4100_0000, Gpi.NonSecure);
  return gpt;
}

function checkAll(gpc: GranuleProtectionCheck, pa: number, state?: Pas): string[] {
  return ALL_PAS.map((pas) => show(gpc.check(pa, pas, state ?? pas)));
}

const NS_PA = 0x5000_0000; // inside the L1 table of the standard GPT

describe('GPCCR_EL3.GPC = 0', () => {
  it('allows every access without reading the GPT, even with a broken configuration', () => {
    const memory = dram();
    for (const low of [gpccr({ pps: 2, gpc: false }), gpccr({ pps: 7, sh: 1, pgs: 3, gpc: false })]) {
      const gpc = unit(memory, low, [0x4_0000, 0]); // L0 table of zeros: every descriptor invalid
      expect(gpc.isEnabled).toBe(false);
      for (const pa of [0, NS_PA, 2 ** 47]) expect(checkAll(gpc, pa)).toEqual(['ok', 'ok', 'ok', 'ok']);
      expect(gpc.tableReads).toBe(0);
    }
  });
});

describe('priority 1: configuration errors are GPT walk faults at level 0 (R_GMGRR, R_JWCSM)', () => {
  const cases: [string, GpccrSpec, number?][] = [
    ['PPS reserved (0b111)', { pps: 7 }],
    ['PPS above PARange', { pps: 6 }, 48],
    ['PPS 48 bits with a 44-bit PARange', { pps: 5 }, 44],
    ['SH = 0b01 reserved', { pps: 2, sh: 1 }],
    ['Inner-shareable non-cacheable GPT fetches', { pps: 2, sh: 3, irgn: 0, orgn: 0 }],
    ['Non-shareable non-cacheable GPT fetches', { pps: 2, sh: 0, irgn: 0, orgn: 0 }],
    ['PGS = 0b11 reserved', { pps: 2, pgs: 3 }],
    ['L0GPTSZ reserved (0b0001)', { pps: 2, l0gptsz: 1 }],
  ];
  for (const [name, spec, paRange] of cases) {
    it(name, () => {
      const gpt = standardGpt();
      const gpc = unit(gpt.memory, gpccr(spec), gpt.gptbr(), paRange ?? 48);
      // Every PAS, below and above PPS, faults before anything else is looked at.
      expect(checkAll(gpc, NS_PA)).toEqual(Array(4).fill('GPTWalk L0'));
      expect(checkAll(gpc, 2 ** 43)).toEqual(Array(4).fill('GPTWalk L0'));
      expect(gpc.tableReads).toBe(0);
    });
  }

  it('Outer-shareable non-cacheable GPT fetches are a valid configuration', () => {
    const gpt = standardGpt();
    const gpc = unit(gpt.memory, gpccr({ pps: 2, sh: 2, irgn: 0, orgn: 0 }), gpt.gptbr());
    expect(checkAll(gpc, NS_PA)).toEqual(['GPF L1', 'ok', 'GPF L1', 'GPF L1']);
  });

  it('outranks PAS disable (priority 2)', () => {
    const gpt = standardGpt();
    const gpc = unit(gpt.memory, gpccr({ pps: 2, sh: 1, spad: true, nspad: true, rlpad: true }), gpt.gptbr());
    expect(checkAll(gpc, NS_PA)).toEqual(Array(4).fill('GPTWalk L0'));
  });
});

describe('priority 2: a disabled PAS is a GPF at level 0 (R_TCWMD)', () => {
  it('SPAD, NSPAD and RLPAD each disable their PAS; Root is never disabled', () => {
    const gpt = standardGpt();
    const pa = 0x1000; // L0 block ANY: the GPT would allow everything
    expect(checkAll(unit(gpt.memory, gpt.gpccr({ spad: true }), gpt.gptbr()), pa)).toEqual([
      'GPF L0',
      'ok',
      'ok',
      'ok',
    ]);
    expect(checkAll(unit(gpt.memory, gpt.gpccr({ nspad: true }), gpt.gptbr()), pa)).toEqual([
      'ok',
      'GPF L0',
      'ok',
      'ok',
    ]);
    expect(checkAll(unit(gpt.memory, gpt.gpccr({ rlpad: true }), gpt.gptbr()), pa)).toEqual([
      'ok',
      'ok',
      'ok',
      'GPF L0',
    ]);
    const all = unit(gpt.memory, gpt.gpccr({ spad: true, nspad: true, rlpad: true }), gpt.gptbr());
    expect(checkAll(all, pa)).toEqual(['GPF L0', 'GPF L0', 'ok', 'GPF L0']);
  });

  it('outranks the above-PPS rule (priority 3): NSPAD blocks NS accesses above PPS', () => {
    const gpt = standardGpt();
    const gpc = unit(gpt.memory, gpt.gpccr({ nspad: true, appsaa: true }), gpt.gptbr());
    expect(checkAll(gpc, 2 ** 40)).toEqual(['ok', 'GPF L0', 'ok', 'ok']);
  });
});

describe('priority 3: PAs at or above PPS', () => {
  it('Non-secure PAS is allowed without a lookup (R_CPDSB); the others GPF at level 0 (R_JFFHB)', () => {
    const memory = dram();
    // GPTBR points at zeros: any lookup would be a walk fault.
    const gpc = unit(memory, gpccr({ pps: 2 }), [0x4_0000, 0]);
    for (const pa of [2 ** 40, 2 ** 40 + 0x1000, 2 ** 47]) {
      expect(checkAll(gpc, pa)).toEqual(['GPF L0', 'ok', 'GPF L0', 'GPF L0']);
    }
    expect(gpc.tableReads).toBe(0);
    expect(show(gpc.check(2 ** 40 - 4096, Pas.NonSecure, Pas.NonSecure))).toBe('GPTWalk L0'); // just below: looked up
  });

  it('APPSAA = 1 allows every PAS above PPS (R_PBPSH), still without a lookup', () => {
    const gpc = unit(dram(), gpccr({ pps: 2, appsaa: true }), [0x4_0000, 0]);
    expect(checkAll(gpc, 2 ** 41)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(gpc.tableReads).toBe(0);
  });

  it('V7: t = 32, PA 0x1_0000_0000', () => {
    const memory = dram();
    const gpt = new GptBuilder(memory, { t: 32, p: 12, s: 30 }, 0x4000_0000);
    gpt.fillL0Blocks(Gpi.Any);
    expect(checkAll(unit(memory, gpt.gpccr(), gpt.gptbr()), 0x1_0000_0000)).toEqual([
      'GPF L0',
      'ok',
      'GPF L0',
      'GPF L0',
    ]);
    expect(checkAll(unit(memory, gpt.gpccr({ appsaa: true }), gpt.gptbr()), 0x1_0000_0000)).toEqual([
      'ok',
      'ok',
      'ok',
      'ok',
    ]);
    expect(checkAll(unit(memory, gpt.gpccr(), gpt.gptbr()), 0xffff_f000)).toEqual(['ok', 'ok', 'ok', 'ok']);
  });
});

describe('priority 4: GPTBR_EL3 above PPS is a GPT address size fault at level 0', () => {
  it('applies below PPS only, after the above-PPS rule', () => {
    const memory = dram();
    const gpc = unit(memory, gpccr({ pps: 0 }), [0x10_0000, 0]); // L0 base 4 GiB, t = 32
    expect(checkAll(gpc, 0x4000_0000)).toEqual(Array(4).fill('GPTAddressSize L0'));
    expect(checkAll(gpc, 0x1_0000_0000)).toEqual(['GPF L0', 'ok', 'GPF L0', 'GPF L0']);
    expect(gpc.tableReads).toBe(0);
  });

  it('outranks an external abort on the L0 fetch', () => {
    // Base 2^40 is both above PPS (t = 40) and outside DRAM.
    const gpc = unit(dram(), gpccr({ pps: 2 }), [0x1000_0000, 0]);
    expect(show(gpc.check(0x1000, Pas.NonSecure, Pas.NonSecure))).toBe('GPTAddressSize L0');
  });

  it('ignores the L0 base bits below the table alignment (not a configuration error)', () => {
    const gpt = standardGpt();
    // 8 KB L0 table: BADDR bit 0 (PA bit 12) is ignored.
    const gpc = unit(gpt.memory, gpt.gpccr(), [0x4_0001, 0]);
    expect(gpc.l0TableBase).toBe(0x4000_0000);
    expect(checkAll(gpc, NS_PA)).toEqual(['GPF L1', 'ok', 'GPF L1', 'GPF L1']);
  });
});

describe('GPT fetch external aborts', () => {
  it('an L0 table outside DRAM is a GPT external abort at level 0', () => {
    const gpc = unit(dram(), gpccr({ pps: 2 }), [0x200_0000, 0]); // 0x20_0000_0000: below PPS, no DRAM
    expect(checkAll(gpc, 0x1000)).toEqual(Array(4).fill('GPTEABT L0'));
  });

  it('an L1 table outside DRAM is a GPT external abort at level 1', () => {
    const gpt = standardGpt();
    gpt.setL0(3, l0Table(0x20_0000_0000));
    const gpc = unit(gpt.memory, gpt.gpccr(), gpt.gptbr());
    expect(checkAll(gpc, 3 * GIB + 0x5000)).toEqual(Array(4).fill('GPTEABT L1'));
    expect(checkAll(gpc, 2 * GIB)).toEqual(['ok', 'ok', 'ok', 'ok']); // other L0 entries unaffected
  });
});

describe('L0 descriptors', () => {
  function withL0(value: bigint): GranuleProtectionCheck {
    const gpt = standardGpt();
    gpt.setL0(2, value);
    return unit(gpt.memory, gpt.gpccr(), gpt.gptbr());
  }
  const pa = 2 * GIB + 0x12_3000;

  it('Block descriptors give one GPI to the whole L0 region, faulting at level 0', () => {
    expect(checkAll(withL0(0xf1n), pa)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(checkAll(withL0(0x91n), pa)).toEqual(['GPF L0', 'ok', 'GPF L0', 'GPF L0']);
    expect(checkAll(withL0(0xa1n), pa)).toEqual(['GPF L0', 'GPF L0', 'ok', 'GPF L0']);
    expect(checkAll(withL0(0x81n), pa)).toEqual(['ok', 'GPF L0', 'GPF L0', 'GPF L0']);
    expect(checkAll(withL0(0xb1n), pa)).toEqual(['GPF L0', 'GPF L0', 'GPF L0', 'ok']);
    expect(checkAll(withL0(0x01n), pa)).toEqual(Array(4).fill('GPF L0'));
    const gpc = withL0(0xa1n);
    expect(gpc.lookup(pa)).toEqual({ walk: 0, gpi: Gpi.Root, level: 0, descriptorPa: 0x4000_0000 + 16 });
    expect(checkAll(gpc, 3 * GIB - 4096)).toEqual(['GPF L0', 'GPF L0', 'ok', 'GPF L0']);
  });

  it('a Block with RES0 bits [63:8] set is a walk fault at level 0', () => {
    expect(checkAll(withL0(0x191n), pa)).toEqual(Array(4).fill('GPTWalk L0'));
    expect(checkAll(withL0(0x9_0000_0091n), pa)).toEqual(Array(4).fill('GPTWalk L0'));
    expect(checkAll(withL0((1n << 63n) | 0x91n), pa)).toEqual(Array(4).fill('GPTWalk L0'));
  });

  it('a Block with a reserved GPI is a walk fault at level 0', () => {
    for (const gpi of [0x2, 0x3, 0xc, 0xe, Gpi.NonSecureOnly, Gpi.SystemAgent]) {
      expect(checkAll(withL0(l0Block(gpi)), pa)).toEqual(Array(4).fill('GPTWalk L0'));
    }
  });

  it('a Table descriptor must point below PPS at an address aligned to the L1 table size', () => {
    // The L1 table for t=40/p=12/s=30 is 128 KiB.
    expect(checkAll(withL0(l0Table(0x4102_0000)), pa)).not.toContain('GPTWalk L0');
    expect(checkAll(withL0(l0Table(0x4101_0000)), pa)).toEqual(Array(4).fill('GPTWalk L0')); // 64 KiB aligned only
    expect(checkAll(withL0(l0Table(0x4102_0000) | 0x10n), pa)).toEqual(Array(4).fill('GPTWalk L0')); // [11:4] != 0
    expect(checkAll(withL0(l0Table(2 ** 40)), pa)).toEqual(Array(4).fill('GPTWalk L0')); // at PPS
    expect(checkAll(withL0(l0Table(0x4102_0000) | (1n << 60n)), pa)).toEqual(Array(4).fill('GPTWalk L0'));
  });

  it('every other descriptor type is invalid: walk fault at level 0', () => {
    for (const type of [0x0n, 0x2n, 0x5n, 0x7n, 0xbn, 0xfn]) {
      expect(checkAll(withL0(0x4102_0000n | type), pa)).toEqual(Array(4).fill('GPTWalk L0'));
    }
  });
});

describe('L1 descriptors', () => {
  const word = 0x6000_0000; // first granule of an L1 word (16 granules of 4 KiB)

  it('Granules descriptor: granule i uses GPI bits [4i+3:4i]', () => {
    const gpt = standardGpt();
    gpt.setL1Word(word, 0x0123_4567_89ab_cdefn);
    const gpc = unit(gpt.memory, gpt.gpccr(), gpt.gptbr());
    for (let i = 0; i < 16; i++) {
      const found = gpc.lookup(word + i * 4096 + 0x123);
      expect(found).toEqual({ walk: 0, gpi: 15 - i, level: 1, descriptorPa: gpt.l1WordPa(word) });
    }
    expect(checkAll(gpc, word)).toEqual(['ok', 'ok', 'ok', 'ok']); // granule 0: ANY (0xF)
    expect(checkAll(gpc, word + 0x6000)).toEqual(['GPF L1', 'ok', 'GPF L1', 'GPF L1']); // granule 6: NS (0x9)
    expect(checkAll(gpc, word + 0x5fff)).toEqual(['GPF L1', 'GPF L1', 'ok', 'GPF L1']); // granule 5: Root (0xA)
    expect(checkAll(gpc, word + 0xf000)).toEqual(Array(4).fill('GPF L1')); // granule 15: NO_ACCESS
  });

  it('Contiguous descriptors give one GPI to every granule of the word', () => {
    const gpt = standardGpt();
    const cases: [bigint, string[]][] = [
      [0x191n, ['GPF L1', 'ok', 'GPF L1', 'GPF L1']], // 2 MB NS
      [0x2b1n, ['GPF L1', 'GPF L1', 'GPF L1', 'ok']], // 32 MB Realm
      [0x381n, ['ok', 'GPF L1', 'GPF L1', 'GPF L1']], // 512 MB Secure
      [0x1a1n, ['GPF L1', 'GPF L1', 'ok', 'GPF L1']], // 2 MB Root
    ];
    for (const [descriptor, expected] of cases) {
      gpt.setL1Word(word, descriptor);
      const gpc = unit(gpt.memory, gpt.gpccr(), gpt.gptbr());
      expect(checkAll(gpc, word)).toEqual(expected);
      expect(checkAll(gpc, word + 0xf000)).toEqual(expected);
    }
    expect(l1Contig(Gpi.NonSecure, 1)).toBe(0x191n);
    expect(l1Contig(Gpi.Realm, 2)).toBe(0x2b1n);
  });

  it('a Contiguous descriptor with Contig = 0b00 or RES0 bits set is a walk fault at level 1', () => {
    const gpt = standardGpt();
    for (const bad of [0x091n, 0x591n, 0x1_0000_0191n, (1n << 63n) | 0x191n]) {
      gpt.setL1Word(word, bad);
      expect(checkAll(unit(gpt.memory, gpt.gpccr(), gpt.gptbr()), word + 0x3000)).toEqual(
        Array(4).fill('GPTWalk L1'),
      );
    }
  });

  it('reserved GPIs are walk faults at level 1 whatever GPCCR_EL3 enables', () => {
    const gpt = standardGpt();
    // Granule 0 must not hold 0b0001 (that would make the word a Contiguous descriptor).
    // Granule 0: NS, 1: NO_ACCESS, 2: 0x1, 5: 0x2, 9: 0x3, 13: 0xC, 15: 0xE.
    gpt.setL1Word(word, 0xe0c0_0030_0020_0109n);
    const everything = gpt.gpccr({ nso: true, sa: true, nsp: true, na6: true, na7: true });
    const gpc = unit(gpt.memory, everything, gpt.gptbr());
    expect(gpc.lookup(word + 0x1000).gpi).toBe(0);
    expect(checkAll(gpc, word + 0x2000)).toEqual(Array(4).fill('GPTWalk L1')); // 0x1 in granule 2
    expect(checkAll(gpc, word + 0x5000)).toEqual(Array(4).fill('GPTWalk L1')); // 0x2
    expect(checkAll(gpc, word + 0x9000)).toEqual(Array(4).fill('GPTWalk L1')); // 0x3
    expect(checkAll(gpc, word + 0xd000)).toEqual(Array(4).fill('GPTWalk L1')); // 0xC
    expect(checkAll(gpc, word + 0xf000)).toEqual(Array(4).fill('GPTWalk L1')); // 0xE
    expect(checkAll(gpc, word)).toEqual(['GPF L1', 'ok', 'GPF L1', 'GPF L1']); // 0x9
  });
});

describe('feature-gated GPIs', () => {
  function gpiWorld(gpi: number, extra: Partial<GpccrSpec>): GranuleProtectionCheck {
    const gpt = standardGpt();
    gpt.setGpi(NS_PA, gpi);
    return unit(gpt.memory, gpt.gpccr(extra), gpt.gptbr());
  }

  it('SA, NSP, NA6, NA7 and NSO are walk faults unless enabled in GPCCR_EL3', () => {
    for (const gpi of [
      Gpi.SystemAgent,
      Gpi.NonSecureProtected,
      Gpi.NoAccess6,
      Gpi.NoAccess7,
      Gpi.NonSecureOnly,
    ]) {
      expect(checkAll(gpiWorld(gpi, {}), NS_PA)).toEqual(Array(4).fill('GPTWalk L1'));
    }
    // Enabling a different gate does not help.
    expect(checkAll(gpiWorld(Gpi.SystemAgent, { nsp: true, nso: true }), NS_PA)).toEqual(
      Array(4).fill('GPTWalk L1'),
    );
  });

  it('enabled SA, NSP, NA6 and NA7 refuse every PE access with a GPF', () => {
    const gates: [number, Partial<GpccrSpec>][] = [
      [Gpi.SystemAgent, { sa: true }],
      [Gpi.NonSecureProtected, { nsp: true }],
      [Gpi.NoAccess6, { na6: true }],
      [Gpi.NoAccess7, { na7: true }],
    ];
    for (const [gpi, gate] of gates) {
      const gpc = gpiWorld(gpi, gate);
      for (const state of ALL_PAS) expect(checkAll(gpc, NS_PA, state)).toEqual(Array(4).fill('GPF L1'));
    }
  });

  it('enabled NSO allows Non-secure PAS from Non-secure or Root state only', () => {
    const gpc = gpiWorld(Gpi.NonSecureOnly, { nso: true });
    expect(show(gpc.check(NS_PA, Pas.NonSecure, Pas.NonSecure))).toBe('ok');
    expect(show(gpc.check(NS_PA, Pas.NonSecure, Pas.Root))).toBe('ok');
    expect(show(gpc.check(NS_PA, Pas.NonSecure, Pas.Secure))).toBe('GPF L1');
    expect(show(gpc.check(NS_PA, Pas.NonSecure, Pas.Realm))).toBe('GPF L1');
    for (const pas of [Pas.Secure, Pas.Root, Pas.Realm]) {
      for (const state of ALL_PAS) expect(show(gpc.check(NS_PA, pas, state))).toBe('GPF L1');
    }
  });
});

describe('access rule (spec §1.5): PAS against GPI', () => {
  it('matches the state x GPI matrix', () => {
    const rows: [number, string[]][] = [
      [Gpi.Any, ['ok', 'ok', 'ok', 'ok']],
      [Gpi.Secure, ['ok', 'GPF L1', 'GPF L1', 'GPF L1']],
      [Gpi.NonSecure, ['GPF L1', 'ok', 'GPF L1', 'GPF L1']],
      [Gpi.Root, ['GPF L1', 'GPF L1', 'ok', 'GPF L1']],
      [Gpi.Realm, ['GPF L1', 'GPF L1', 'GPF L1', 'ok']],
      [Gpi.NoAccess, ['GPF L1', 'GPF L1', 'GPF L1', 'GPF L1']],
    ];
    const gpt = standardGpt();
    rows.forEach(([gpi], i) => gpt.setGpi(NS_PA + i * 4096, gpi));
    const gpc = unit(gpt.memory, gpt.gpccr(), gpt.gptbr());
    rows.forEach(([, expected], i) => {
      // The security state does not matter for these GPIs: only the PAS of the access does.
      for (const state of ALL_PAS) expect(checkAll(gpc, NS_PA + i * 4096, state)).toEqual(expected);
    });
  });
});

describe('GPT-information caching (spec §4.1)', () => {
  it('a GPT edit is invisible to a unit that cached the granule until its range is invalidated', () => {
    const gpt = standardGpt();
    const gpc = unit(gpt.memory, gpt.gpccr(), gpt.gptbr());
    expect(show(gpc.check(NS_PA, Pas.NonSecure, Pas.NonSecure))).toBe('ok');
    expect(show(gpc.check(NS_PA + 4096, Pas.NonSecure, Pas.NonSecure))).toBe('ok');
    gpt.setGpi(NS_PA, Gpi.Root);
    gpt.setGpi(NS_PA + 4096, Gpi.Root);
    // A fresh unit (nothing cached) sees the edit at once.
    expect(show(unit(gpt.memory, gpt.gpccr(), gpt.gptbr()).check(NS_PA, Pas.NonSecure, Pas.NonSecure))).toBe(
      'GPF L1',
    );
    // Invalidating another granule's range changes nothing.
    gpc.invalidateRange(NS_PA + 2 * 4096, 4096);
    expect(show(gpc.check(NS_PA, Pas.NonSecure, Pas.NonSecure))).toBe('ok');
    gpc.invalidateRange(NS_PA, 4096);
    expect(show(gpc.check(NS_PA, Pas.NonSecure, Pas.NonSecure))).toBe('GPF L1');
    expect(show(gpc.check(NS_PA + 4096, Pas.NonSecure, Pas.NonSecure))).toBe('ok');
    gpc.invalidateAll();
    expect(show(gpc.check(NS_PA + 4096, Pas.NonSecure, Pas.NonSecure))).toBe('GPF L1');
  });
});

describe('worked examples of spec §8 (index arithmetic through lookup)', () => {
  /** The nibble-order word of §8: granule i holds GPI 15 - i. */
  const PATTERN = 0x0123_4567_89ab_cdefn;

  interface Example {
    readonly name: string;
    readonly geometry: GptGeometry;
    readonly paRangeBits: number;
    readonly l0Base: number;
    readonly l1Base: number;
    readonly pa: number;
    readonly l0Bytes: number;
    readonly l1Bytes: number;
    readonly l0Offset: number;
    readonly l1Offset: number;
    readonly gpiIndex: number;
  }

  const examples: Example[] = [
    // V1: PPS 1 TB, 4 KB granules, 1 GB L0 regions.
    {
      name: 'V1',
      geometry: { t: 40, p: 12, s: 30 },
      paRangeBits: 48,
      l0Base: 0x4000_0000,
      l1Base: 0x4100_0000,
      pa: 0x8_8000_1000,
      l0Bytes: 0x2000,
      l1Bytes: 0x2_0000,
      l0Offset: 0x110,
      l1Offset: 0x0,
      gpiIndex: 1,
    },
    // V2: PPS 4 GB: a 32-byte L0 table, 4 KB aligned.
    {
      name: 'V2',
      geometry: { t: 32, p: 12, s: 30 },
      paRangeBits: 48,
      l0Base: 0x4000_1000,
      l1Base: 0x4100_0000,
      pa: 0xfdc0_0000,
      l0Bytes: 32,
      l1Bytes: 0x2_0000,
      l0Offset: 0x18,
      l1Offset: 0x1_ee00,
      gpiIndex: 0,
    },
    // V3: 64 KB granules.
    {
      name: 'V3',
      geometry: { t: 40, p: 16, s: 30 },
      paRangeBits: 48,
      l0Base: 0x4000_0000,
      l1Base: 0x4100_2000,
      pa: 0x8_8123_4000,
      l0Bytes: 0x2000,
      l1Bytes: 0x2000,
      l0Offset: 0x110,
      l1Offset: 0x90,
      gpiIndex: 3,
    },
    // V4: PPS 256 TB, 16 KB granules, 16 GB L0 regions.
    {
      name: 'V4',
      geometry: { t: 48, p: 14, s: 34 },
      paRangeBits: 48,
      l0Base: 0x4000_0000,
      l1Base: 0x4108_0000,
      pa: 0x1234_5678_8000,
      l0Bytes: 0x2_0000,
      l1Bytes: 0x8_0000,
      l0Offset: 0x2468,
      l1Offset: 0xacf0,
      gpiIndex: 2,
    },
    // V5: PPS 4 PB, 512 GB L0 regions: 64 MB L1 tables.
    {
      name: 'V5',
      geometry: { t: 52, p: 12, s: 39 },
      paRangeBits: 52,
      l0Base: 0x4000_0000,
      l1Base: 0x4400_0000,
      pa: 0xffff_f000,
      l0Bytes: 0x1_0000,
      l1Bytes: 0x400_0000,
      l0Offset: 0x0,
      l1Offset: 0x7_fff8,
      gpiIndex: 15,
    },
    // V6: t = s: a single L0 entry; 8 MB L1 table.
    {
      name: 'V6',
      geometry: { t: 36, p: 12, s: 36 },
      paRangeBits: 48,
      l0Base: 0x4000_0000,
      l1Base: 0x4080_0000,
      pa: 0x8_8000_1000,
      l0Bytes: 8,
      l1Bytes: 0x80_0000,
      l0Offset: 0x0,
      l1Offset: 0x44_0000,
      gpiIndex: 1,
    },
    // V8: PPS 16 TB, 64 GB L0 regions, 64 KB granules.
    {
      name: 'V8',
      geometry: { t: 44, p: 16, s: 36 },
      paRangeBits: 48,
      l0Base: 0x4000_0000,
      l1Base: 0x4108_0000,
      pa: 0x400_0c0d_e000,
      l0Bytes: 0x800,
      l1Bytes: 0x8_0000,
      l0Offset: 0x200,
      l1Offset: 0x600,
      gpiIndex: 0xd,
    },
  ];

  for (const v of examples) {
    it(`${v.name}: PA 0x${v.pa.toString(16)} is L0 offset 0x${v.l0Offset.toString(16)}, L1 offset 0x${v.l1Offset.toString(16)}, nibble ${v.gpiIndex}`, () => {
      const memory = dram();
      const gpt = new GptBuilder(memory, v.geometry, v.l0Base);
      expect(8 * gpt.l0Entries).toBe(v.l0Bytes);
      expect(gpt.l1Bytes).toBe(v.l1Bytes);
      // Only the expected L0 entry is a table: any other index would read a zero (invalid) entry.
      memory.write64Big(v.l0Base + v.l0Offset, l0Table(v.l1Base));
      // Only the expected L1 word holds a GPI pattern: any other word reads as NO_ACCESS.
      memory.write64Big(v.l1Base + v.l1Offset, PATTERN);
      const gpc = unit(memory, gpccrFor(v), [v.l0Base / 4096, 0], v.paRangeBits);
      expect(gpc.l0TableBytes).toBe(v.l0Bytes);
      expect(gpc.l0TableBase).toBe(v.l0Base);
      const found = gpc.lookup(v.pa);
      expect(found).toEqual({ walk: 0, gpi: 15 - v.gpiIndex, level: 1, descriptorPa: v.l1Base + v.l1Offset });
      // Every byte of the granule uses the same nibble; the next granule the next one.
      const granule = 2 ** v.geometry.p;
      const granuleBase = Math.floor(v.pa / granule) * granule;
      expect(gpc.lookup(granuleBase).gpi).toBe(15 - v.gpiIndex);
      expect(gpc.lookup(granuleBase + granule - 1).gpi).toBe(15 - v.gpiIndex);
      if (v.gpiIndex < 15) expect(gpc.lookup(granuleBase + granule).gpi).toBe(14 - v.gpiIndex);
    });
  }

  function gpccrFor(v: Example): number {
    return new GptBuilder(new PhysicalMemory([]), v.geometry, v.l0Base).gpccr();
  }

  it('V1 outcomes with the granule delegated to Realm (word 0x9999_9999_9999_99B9)', () => {
    const gpt = new GptBuilder(dram(), V_GEOMETRY, 0x4000_0000);
    gpt.fillL0Blocks(Gpi.Any);
    gpt.setL0Table(0x22, 0x4100_0000, Gpi.NonSecure);
    expect(gpt.l1Word(0x8_8000_1000)).toBe(l1Uniform(Gpi.NonSecure));
    gpt.setGpi(0x8_8000_1000, Gpi.Realm);
    expect(gpt.l1Word(0x8_8000_1000)).toBe(0x9999_9999_9999_99b9n);
    const gpc = unit(gpt.memory, gpt.gpccr(), gpt.gptbr());
    expect(show(gpc.check(0x8_8000_1000, Pas.Realm, Pas.Realm))).toBe('ok');
    expect(show(gpc.check(0x8_8000_1000, Pas.NonSecure, Pas.NonSecure))).toBe('GPF L1');
    expect(show(gpc.check(0x8_8000_1000, Pas.Realm, Pas.Root))).toBe('ok'); // EL3 with NSE:NS = 11
    expect(show(gpc.check(0x8_8000_1000, Pas.Root, Pas.Root))).toBe('GPF L1'); // EL3 through a Root mapping
    expect(show(gpc.check(0x8_8000_0fff, Pas.NonSecure, Pas.NonSecure))).toBe('ok'); // granule 0 still NS
    // The transient NO_ACCESS state of undelegate.
    gpt.setGpi(0x8_8000_1000, Gpi.NoAccess);
    expect(gpt.l1Word(0x8_8000_1000)).toBe(0x9999_9999_9999_9909n);
    expect(checkAll(unit(gpt.memory, gpt.gpccr(), gpt.gptbr()), 0x8_8000_1000)).toEqual(
      Array(4).fill('GPF L1'),
    );
  });

  it('t < s: one L0 entry covers the whole protected space (t = 32, s = 39)', () => {
    const memory = dram();
    const gpt = new GptBuilder(memory, { t: 32, p: 12, s: 39 }, 0x4000_0000);
    expect(gpt.l0Entries).toBe(1);
    gpt.setL0Table(0, 0x4400_0000);
    memory.write64Big(0x4400_0000 + 8 * 0xffff, PATTERN);
    const gpc = unit(memory, gpt.gpccr(), gpt.gptbr());
    expect(gpc.lookup(0xffff_f000)).toEqual({
      walk: 0,
      gpi: 0,
      level: 1,
      descriptorPa: 0x4400_0000 + 0x7_fff8,
    });
    expect(show(gpc.check(0x1_0000_0000, Pas.Secure, Pas.Secure))).toBe('GPF L0'); // above PPS
  });
});
