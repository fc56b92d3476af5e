/**
 * Unit tests of the stage-1 walker (src/hw/mmu.ts) with the regimes of src/hw/regime.ts: 4 KB
 * granule, 48-bit VA, both EL1&0 ranges and the EL3 regime; descriptor formats, hierarchical
 * permissions, fault kinds and levels, and the GPC on every descriptor fetch and on the output
 * (spec/cca-hardware.md §7, §3.5).
 */
import { describe, expect, it } from 'vitest';
import { vaFromU64 } from '../../src/hw/bits.js';
import { GPC_FAULT_NAMES, GranuleProtectionCheck, gpcFaultKind, gpcFaultLevel } from '../../src/hw/gpc.js';
import { PhysicalMemory } from '../../src/hw/memory.js';
import {
  Access,
  MMU_FAULT_NAMES,
  MmuFault,
  Perm,
  Stage1Walker,
  TranslationResult,
} from '../../src/hw/mmu.js';
import { Gpi, PAS_NAMES, Pas } from '../../src/hw/pas.js';
import { decodeEl10, decodeEl3, type Regime } from '../../src/hw/regime.js';
import {
  GptBuilder,
  PageTableBuilder,
  leafDescriptor,
  tableDescriptor,
  tcrEl1,
  tcrEl3,
  ttbr,
  vaIndex,
  type LeafAttrs,
  type TableAttrs,
  type TcrSpec,
} from './helpers.js';

const READ = Access.Read;
const WRITE = Access.Write;
const FETCH = Access.Fetch;

interface WorldOptions {
  /** GPT with an all-NS L1 table over [1 GiB, 2 GiB) (default) or ANY everywhere. */
  readonly gpt?: 'ns' | 'any';
}

/** Memory with a GPT (ANY everywhere except an all-NS L1 table over [1 GiB, 2 GiB)) and two empty roots. */
class World {
  readonly memory = new PhysicalMemory([
    { name: 'low', base: 0x4000_0000, size: 0xc000_0000 },
    { name: 'high', base: 0x8_8000_0000, size: 0x1_0000_0000 },
  ]);
  readonly gpt = new GptBuilder(this.memory, { t: 40, p: 12, s: 30 }, 0x4000_0000);
  readonly pt = new PageTableBuilder(this.memory, 0x5000_0000, 0x100_0000);
  readonly root0: number;
  readonly root1: number;
  readonly walker = new Stage1Walker(this.memory);
  tcr: TcrSpec = {};
  sctlr: [number, number] = [1, 0];

  constructor(options: WorldOptions = {}) {
    this.gpt.fillL0Blocks(Gpi.Any);
    if ((options.gpt ?? 'ns') === 'ns') this.gpt.setL0Table(1, 0x4100_0000, Gpi.NonSecure);
    this.root0 = this.pt.newTable();
    this.root1 = this.pt.newTable();
  }

  /** A GPC unit configured for this GPT, with nothing cached (each test sees the GPT as written). */
  gpc(): GranuleProtectionCheck {
    const gpc = new GranuleProtectionCheck(this.memory, 48);
    gpc.configure(this.gpt.gpccr(), ...this.gpt.gptbr());
    return gpc;
  }

  regime(): Regime {
    return decodeEl10(
      { tcr: tcrEl1(this.tcr), ttbr0: ttbr(this.root0), ttbr1: ttbr(this.root1), sctlr: this.sctlr },
      48,
    );
  }

  translate(
    va: number,
    el = 1,
    access: Access = READ,
    state: Pas = Pas.NonSecure,
    regime = this.regime(),
  ): TranslationResult {
    const out = new TranslationResult();
    this.walker.translate(regime, this.gpc(), state, va, el, access, out);
    return out;
  }

  /** Map `va` with explicit table descriptors (and their attributes) at levels 0-2. */
  mapWithTables(root: number, va: number, leaf: bigint, tableAttrs: readonly TableAttrs[]): number[] {
    const tables = [root];
    for (let level = 0; level < 3; level++) {
      const next = this.pt.newTable();
      this.memory.write64Big(
        tables[level]! + 8 * vaIndex(va, level),
        tableDescriptor(next, tableAttrs[level] ?? {}),
      );
      tables.push(next);
    }
    this.memory.write64Big(tables[3]! + 8 * vaIndex(va, 3), leaf);
    return tables;
  }
}

/** "ok <pa> <pas>" or "<fault> L<level>" (GPC faults: "<kind> L<level> gpt<level> [s1ptw]"). */
function show(out: TranslationResult): string {
  if (out.fault === MmuFault.None) return `ok 0x${out.pa.toString(16)} ${PAS_NAMES[out.pas]}`;
  if (out.fault === MmuFault.Gpc) {
    return `${GPC_FAULT_NAMES[gpcFaultKind(out.gpc)]} L${out.level} gpt${gpcFaultLevel(out.gpc)}${out.s1ptw ? ' s1ptw' : ''}`;
  }
  return `${MMU_FAULT_NAMES[out.fault]} L${out.level}`;
}

describe('4-level walk and index arithmetic (spec §8 VMSA vectors)', () => {
  it('VA 0x0000_7FFF_1234_5678 uses indices 0xFF, 0x1FC, 0x91, 0x145 and offset 0x678', () => {
    const w = new World();
    const va = 0x7fff_1234_5678;
    expect([0, 1, 2, 3].map((l) => vaIndex(va, l))).toEqual([0xff, 0x1fc, 0x91, 0x145]);
    const tables = w.mapWithTables(w.root0, va, leafDescriptor(0x6000_0000, 3, { ap: 0 }), []);
    // The descriptors sit exactly at those indices.
    expect(w.memory.read64(w.root0 + 8 * 0xff)! & 3n).toBe(3n);
    expect(w.memory.read64(tables[3]! + 8 * 0x145)! & 3n).toBe(3n);
    const out = w.translate(va);
    expect(show(out)).toBe('ok 0x60000678 NonSecure');
    expect(out.level).toBe(3);
    expect(out.sizeShift).toBe(12);
    expect(out.walkReads).toBe(4);
    expect(out.global).toBe(true);
    // Neighbouring pages and the neighbouring L0 entry are not mapped.
    expect(show(w.translate(va + 0x1000))).toBe('Translation L3');
    expect(show(w.translate(va - 0x1000))).toBe('Translation L3');
    expect(show(w.translate(va + 2 ** 39))).toBe('Translation L0');
  });

  it('VA 0x0000_0000_4020_1ABC uses indices 0, 1, 1, 1', () => {
    const w = new World();
    w.pt.map(w.root0, 0x4020_1000, 0x6123_4000, 3);
    expect(w.pt.entryPa(w.root0, 0x4020_1000, 3) % 4096).toBe(8);
    expect(show(w.translate(0x4020_1abc))).toBe('ok 0x61234abc NonSecure');
  });

  it('VA 0xFFFF_8000_1234_5678 goes through TTBR1 with indices 0x100, 0, 0x91, 0x145', () => {
    const w = new World();
    const va = vaFromU64(0xffff_8000_1234_5678n);
    expect(va).toBeLessThan(0);
    expect([0, 1, 2, 3].map((l) => vaIndex(va, l))).toEqual([0x100, 0, 0x91, 0x145]);
    w.mapWithTables(w.root1, va, leafDescriptor(0x6000_0000, 3), []);
    expect(show(w.translate(va))).toBe('ok 0x60000678 NonSecure');
    // The same low 48 bits through TTBR0 find nothing.
    expect(show(w.translate(0x8000_1234_5678))).toBe('Translation L0');
  });

  it('the extremes of the TTBR1 range are translated; just outside is a level-0 Translation fault', () => {
    const w = new World();
    const lowest = vaFromU64(0xffff_0000_0000_0000n);
    const highest = vaFromU64(0xffff_ffff_ffff_f000n);
    w.pt.map(w.root1, lowest, 0x6000_0000, 3);
    w.pt.map(w.root1, highest, 0x6000_1000, 3);
    expect(show(w.translate(lowest))).toBe('ok 0x60000000 NonSecure');
    expect(show(w.translate(vaFromU64(0xffff_ffff_ffff_fffcn)))).toBe('ok 0x60001ffc NonSecure');
    const below = w.translate(vaFromU64(0xfffe_ffff_ffff_f000n));
    expect(show(below)).toBe('Translation L0');
    expect(below.walkReads).toBe(0);
  });

  it('VAs whose top bits are neither all-0 nor all-1 are level-0 Translation faults', () => {
    const w = new World();
    w.pt.map(w.root0, 0, 0x6000_0000, 3);
    for (const raw of [
      0x0001_0000_0000_0000n,
      0x00ff_0000_0000_0000n,
      0x8000_0000_0000_0000n,
      0x7fff_0000_0000_0000n,
    ]) {
      const out = w.translate(vaFromU64(raw));
      expect(show(out)).toBe('Translation L0');
      expect(out.walkReads).toBe(0);
    }
  });
});

describe('blocks', () => {
  it('a level-2 2 MB block (spec encoding 0x4020_0781: EL1 read-only, Inner-shareable)', () => {
    const w = new World();
    w.pt.setEntry(w.root0, 0x4020_0000, 2, 0x4020_0781n);
    expect(leafDescriptor(0x4020_0000, 2, { ap: 2 })).toBe(0x4020_0781n);
    const out = w.translate(0x4030_1234);
    expect(show(out)).toBe('ok 0x40301234 NonSecure');
    expect(out.level).toBe(2);
    expect(out.sizeShift).toBe(21);
    expect(out.walkReads).toBe(3);
    expect(show(w.translate(0x403f_fffc))).toBe('ok 0x403ffffc NonSecure');
    expect(show(w.translate(0x4040_0000))).toBe('Translation L2');
    expect(show(w.translate(0x4030_1234, 1, WRITE))).toBe('Permission L2');
    expect(show(w.translate(0x4030_1234, 0, READ))).toBe('Permission L2');
  });

  it('a level-1 1 GB block', () => {
    const w = new World();
    w.pt.setEntry(w.root0, 0xc000_0000, 1, leafDescriptor(0x8_8000_0000, 1, { ap: 1 }));
    const out = w.translate(0xc123_4567, 0, WRITE);
    expect(show(out)).toBe('ok 0x881234567 NonSecure');
    expect(out.level).toBe(1);
    expect(out.sizeShift).toBe(30);
    expect(out.walkReads).toBe(2);
  });

  it('a block descriptor at level 0 and a level-3 entry with type 0b01 are Translation faults', () => {
    const w = new World();
    w.pt.setEntry(w.root0, 0x80_0000_0000, 0, leafDescriptor(0, 1));
    expect(show(w.translate(0x80_0000_1000))).toBe('Translation L0');
    w.pt.setEntry(w.root0, 0x1000, 3, leafDescriptor(0x6000_0000, 1)); // block encoding at level 3
    expect(show(w.translate(0x1000))).toBe('Translation L3');
  });
});

describe('invalid descriptors', () => {
  it('an invalid entry faults at the level where it is found', () => {
    const w = new World();
    const va = 0x12_3456_7000;
    expect(show(w.translate(va))).toBe('Translation L0');
    const tables = w.mapWithTables(w.root0, va, leafDescriptor(0x6000_0000, 3), []);
    expect(show(w.translate(va))).toBe('ok 0x60000000 NonSecure');
    for (let level = 3; level >= 0; level--) {
      const at = tables[level]! + 8 * vaIndex(va, level);
      const saved = w.memory.read64(at)!;
      w.memory.write64Big(at, saved & ~1n); // bit 0 clear: invalid whatever the rest says
      const out = w.translate(va);
      expect(show(out)).toBe(`Translation L${level}`);
      expect(out.walkReads).toBe(level + 1);
      w.memory.write64Big(at, saved);
    }
  });
});

describe('TCR_EL1 ranges', () => {
  it('EPD0 and EPD1 disable walks of their range only', () => {
    const w = new World();
    w.pt.map(w.root0, 0x1000, 0x6000_0000, 3);
    w.pt.map(w.root1, -0x1000, 0x6000_1000, 3);
    expect(show(w.translate(0x1000))).toBe('ok 0x60000000 NonSecure');
    expect(show(w.translate(-0x1000))).toBe('ok 0x60001000 NonSecure');
    w.tcr = { epd0: true };
    expect(show(w.translate(0x1000))).toBe('Translation L0');
    expect(show(w.translate(-0x1000))).toBe('ok 0x60001000 NonSecure');
    w.tcr = { epd1: true };
    expect(show(w.translate(0x1000))).toBe('ok 0x60000000 NonSecure');
    expect(show(w.translate(-0x1000))).toBe('Translation L0');
  });

  it('T0SZ = 25 (39-bit range) starts the walk at level 1', () => {
    const w = new World();
    w.tcr = { t0sz: 25 };
    const va = 0x7f_c020_1abc; // bits [38:30] = 0x1FF
    const l2 = w.pt.newTable();
    const l3 = w.pt.newTable();
    w.memory.write64Big(w.root0 + 8 * 0x1ff, tableDescriptor(l2));
    w.memory.write64Big(l2 + 8 * vaIndex(va, 2), tableDescriptor(l3));
    w.memory.write64Big(l3 + 8 * vaIndex(va, 3), leafDescriptor(0x6000_0000, 3));
    const out = w.translate(va);
    expect(show(out)).toBe('ok 0x60000abc NonSecure');
    expect(out.walkReads).toBe(3);
    expect(show(w.translate(2 ** 39))).toBe('Translation L0'); // outside the 39-bit range
  });

  it('an out-of-range TxSZ, or a granule other than 4 KB (TG0 = 0b00, TG1 = 0b10; SIMPLIFICATION in regime.ts), translates nothing', () => {
    const w = new World();
    w.pt.map(w.root0, 0x1000, 0x6000_0000, 3);
    w.pt.map(w.root1, -0x1000, 0x6000_0000, 3);
    for (const tcr of [{ t0sz: 15 }, { t0sz: 40 }, { tg0: 1 }, { tg0: 2 }]) {
      w.tcr = tcr;
      expect(show(w.translate(0x1000))).toBe('Translation L0');
    }
    for (const tcr of [{ tg1: 0 }, { tg1: 1 }, { tg1: 3 }]) {
      w.tcr = tcr;
      expect(show(w.translate(-0x1000))).toBe('Translation L0');
      expect(show(w.translate(0x1000))).toBe('ok 0x60000000 NonSecure');
    }
  });
});

describe('Address size faults', () => {
  it('a TTBR base beyond the output size faults at level 0 before any fetch', () => {
    const w = new World();
    w.tcr = { ips: 0 }; // 32-bit output
    const regime = decodeEl10(
      { tcr: tcrEl1(w.tcr), ttbr0: ttbr(0x8_8000_0000), ttbr1: ttbr(w.root1), sctlr: [1, 0] },
      48,
    );
    const out = w.translate(0x1000, 1, READ, Pas.NonSecure, regime);
    expect(show(out)).toBe('AddressSize L0');
    expect(out.walkReads).toBe(0);
  });

  it('a next-level table address beyond the output size faults at that level', () => {
    const w = new World();
    w.tcr = { ips: 2 }; // 40-bit output
    w.pt.map(w.root0, 0x1000, 0x6000_0000, 3);
    w.memory.write64Big(w.pt.entryPa(w.root0, 0x1000, 1), tableDescriptor(2 ** 40));
    expect(show(w.translate(0x1000))).toBe('AddressSize L1');
  });

  it('an output address beyond the output size faults at the leaf level', () => {
    const w = new World();
    w.pt.map(w.root0, 0x1000, 2 ** 48 + 0x6000_0000, 3); // bit 48 set (mmu-hand-edges)
    w.pt.map(w.root0, 0x2000, 2 ** 40, 3);
    w.pt.setEntry(w.root0, 0x4000_0000, 1, leafDescriptor(2 ** 47, 1));
    expect(show(w.translate(0x1000))).toBe('AddressSize L3');
    expect(show(w.translate(0x2000))).toBe('ok 0x10000000000 NonSecure');
    expect(show(w.translate(0x4000_0000))).toBe('ok 0x800000000000 NonSecure');
    w.tcr = { ips: 2 };
    expect(show(w.translate(0x2000))).toBe('AddressSize L3');
    expect(show(w.translate(0x4000_0000))).toBe('AddressSize L1');
    w.tcr = { ips: 6 }; // 52 bits requested, but PARange is 48
    expect(show(w.translate(0x1000))).toBe('AddressSize L3');
  });
});

describe('Access flag', () => {
  it('AF = 0 faults at the leaf level, before the permission check', () => {
    const w = new World();
    w.pt.map(w.root0, 0x1000, 0x6000_0000, 3, { af: false, ap: 0 });
    w.pt.setEntry(w.root0, 0x20_0000, 2, leafDescriptor(0x6020_0000, 2, { af: false }));
    expect(show(w.translate(0x1000))).toBe('AccessFlag L3');
    expect(show(w.translate(0x1000, 0, WRITE))).toBe('AccessFlag L3'); // EL0 has no access: still AF first
    expect(show(w.translate(0x20_1000))).toBe('AccessFlag L2');
  });

  it('with TCR_EL1.HA = 1 the walker sets AF in memory and translates', () => {
    const w = new World();
    const at = w.pt.map(w.root0, 0x1000, 0x6000_0000, 3, { af: false });
    w.tcr = { ha: true };
    expect(show(w.translate(0x1000))).toBe('ok 0x60000000 NonSecure');
    expect(w.memory.read64(at)! & (1n << 10n)).toBe(1n << 10n);
    w.tcr = {};
    expect(show(w.translate(0x1000))).toBe('ok 0x60000000 NonSecure');
  });
});

describe('permissions (direct AP model, spec §7.4)', () => {
  // [EL0 read, EL0 write, EL0 fetch, EL1 read, EL1 write, EL1 fetch]
  const rows: [number, boolean, boolean, string][] = [
    [0, false, false, '--X RWX'], // EL0 execute-only when UXN = 0
    [1, false, false, 'RWX RW-'], // EL0-writable: never privileged-executable
    [2, false, false, '--X R-X'],
    [3, false, false, 'R-X R-X'],
    [0, true, true, '--- RW-'],
    [1, true, true, 'RW- RW-'],
    [2, true, true, '--- R--'],
    [3, true, true, 'R-- R--'],
    [0, false, true, '--- RWX'], // UXN only
    [3, true, false, 'R-X R--'], // PXN only
  ];

  it('AP[2:1] x PXN x UXN gives the expected read/write/execute at EL0 and EL1', () => {
    const w = new World();
    rows.forEach(([ap, pxn, uxn], i) =>
      w.pt.map(w.root0, 0x10_0000 + i * 4096, 0x6000_0000 + i * 4096, 3, { ap, pxn, uxn }),
    );
    rows.forEach(([ap, pxn, uxn, expected], i) => {
      const va = 0x10_0000 + i * 4096;
      const got = [0, 1]
        .map((el) =>
          [READ, WRITE, FETCH]
            .map((access, k) => {
              const out = w.translate(va, el, access);
              if (out.fault === MmuFault.None) return 'RWX'[k];
              expect(show(out)).toBe('Permission L3');
              return '-';
            })
            .join(''),
        )
        .join(' ');
      expect(got, `AP=${ap} PXN=${pxn} UXN=${uxn}`).toBe(expected);
    });
  });

  it('the spec page encodings 0x0040_0008_8000_1F03 and 0x0060_0008_8000_1C47', () => {
    const w = new World();
    const first = 0x0040_0008_8000_1f03n;
    const second = 0x0060_0008_8000_1c47n;
    expect(leafDescriptor(0x8_8000_1000, 3, { ap: 0, ng: true, uxn: true })).toBe(first);
    expect(
      leafDescriptor(0x8_8000_1000, 3, { ap: 1, ng: true, pxn: true, uxn: true, attrIndx: 1, sh: 0 }),
    ).toBe(second);
    w.pt.setEntry(w.root0, 0x1000, 3, first);
    w.pt.setEntry(w.root0, 0x2000, 3, second);
    const a = w.translate(0x1010);
    expect(show(a)).toBe('ok 0x880001010 NonSecure');
    expect(a.global).toBe(false);
    expect(a.perms).toBe(Perm.R1 | Perm.W1 | Perm.X1);
    const b = w.translate(0x2010, 0, WRITE);
    expect(show(b)).toBe('ok 0x880001010 NonSecure');
    expect(b.perms).toBe(Perm.R0 | Perm.W0 | Perm.R1 | Perm.W1);
  });

  it('SCTLR_EL1.WXN removes execute from writable pages', () => {
    const w = new World();
    w.pt.map(w.root0, 0x1000, 0x6000_0000, 3, { ap: 0 }); // EL1 RW, privileged-executable
    w.pt.map(w.root0, 0x2000, 0x6000_1000, 3, { ap: 3 }); // read-only everywhere
    w.pt.map(w.root0, 0x3000, 0x6000_2000, 3, { ap: 1, pxn: true }); // EL0 RW, UXN = 0
    w.sctlr = [1 | (1 << 19), 0];
    expect(show(w.translate(0x1000, 1, FETCH))).toBe('Permission L3');
    expect(show(w.translate(0x1000, 1, WRITE))).toBe('ok 0x60000000 NonSecure');
    expect(show(w.translate(0x2000, 1, FETCH))).toBe('ok 0x60001000 NonSecure');
    expect(show(w.translate(0x2000, 0, FETCH))).toBe('ok 0x60001000 NonSecure');
    expect(show(w.translate(0x3000, 0, FETCH))).toBe('Permission L3');
  });
});

describe('hierarchical attributes of table descriptors', () => {
  const va = 0x80_4020_1000; // L0 index 1: its table descriptor is used by this mapping only
  function world(leaf: LeafAttrs, tables: TableAttrs[], tcr: TcrSpec = {}): World {
    const w = new World();
    w.tcr = tcr;
    w.mapWithTables(w.root0, va, leafDescriptor(0x6000_0000, 3, leaf), tables);
    return w;
  }
  function perms(w: World): string {
    return [0, 1]
      .map((el) =>
        [READ, WRITE, FETCH]
          .map((a, k) => (w.translate(va, el, a).fault === MmuFault.None ? 'RWX'[k] : '-'))
          .join(''),
      )
      .join(' ');
  }

  it('APTable[0] removes EL0 access (and so allows privileged execution)', () => {
    expect(perms(world({ ap: 1 }, []))).toBe('RWX RW-');
    expect(perms(world({ ap: 1 }, [{ apTable: 0b01 }]))).toBe('--X RWX');
  });

  it('APTable[1] removes write access at every EL', () => {
    expect(perms(world({ ap: 1, uxn: true, pxn: true }, [{}, { apTable: 0b10 }]))).toBe('R-- R--');
  });

  it('UXNTable removes EL0 execution; PXNTable removes privileged execution', () => {
    expect(perms(world({ ap: 3 }, []))).toBe('R-X R-X');
    expect(perms(world({ ap: 3 }, [{}, {}, { uxnTable: true }]))).toBe('R-- R-X');
    expect(perms(world({ ap: 3 }, [{ pxnTable: true }]))).toBe('R-X R--');
  });

  it('restrictions from several levels accumulate', () => {
    expect(perms(world({ ap: 1 }, [{ apTable: 0b01 }, {}, { apTable: 0b10, pxnTable: true }]))).toBe(
      '--X R--',
    );
  });

  it('TCR_EL1.HPD0 = 1 ignores APTable, UXNTable and PXNTable', () => {
    const all: TableAttrs = { apTable: 0b11, uxnTable: true, pxnTable: true };
    expect(perms(world({ ap: 1 }, [all, all, all]))).toBe('--- R--');
    expect(perms(world({ ap: 1 }, [all, all, all], { hpd0: true }))).toBe('RWX RW-');
  });
});

describe('granule protection checks during translation', () => {
  it('a GPF on a descriptor fetch is reported at the translation level of that fetch, with s1ptw', () => {
    for (const level of [0, 1, 2, 3]) {
      const w = new World();
      const tables = w.mapWithTables(w.root0, 0x1000, leafDescriptor(0x6000_0000, 3), []);
      w.gpt.setGpi(tables[level]!, Gpi.Root);
      const out = w.translate(0x1000);
      expect(show(out)).toBe(`GPF L${level} gpt1 s1ptw`);
      expect(out.faultPa).toBe(tables[level]! + 8 * vaIndex(0x1000, level));
      expect(out.faultPas).toBe(Pas.NonSecure);
      expect(out.walkReads).toBe(level);
    }
  });

  it('a reserved GPI under a table page is a GPT walk fault on the descriptor fetch', () => {
    const w = new World();
    const tables = w.mapWithTables(w.root0, 0x1000, leafDescriptor(0x6000_0000, 3), []);
    w.gpt.setGpi(tables[2]!, 0xc);
    expect(show(w.translate(0x1000, 0, FETCH))).toBe('GPTWalk L2 gpt1 s1ptw');
  });

  it('a GPF on the output address is reported at the leaf level without s1ptw', () => {
    const w = new World();
    w.pt.map(w.root0, 0x1000, 0x6000_0000, 3);
    w.pt.setEntry(w.root0, 0x20_0000, 2, leafDescriptor(0x6020_0000, 2));
    w.gpt.setGpi(0x6000_0000, Gpi.Realm);
    w.gpt.setGpi(0x6021_0000, Gpi.NoAccess);
    const out = w.translate(0x1abc);
    expect(show(out)).toBe('GPF L3 gpt1');
    expect(out.faultPa).toBe(0x6000_0abc);
    expect(out.faultPas).toBe(Pas.NonSecure);
    expect(out.walkReads).toBe(4);
    expect(show(w.translate(0x21_0000))).toBe('GPF L2 gpt1');
    expect(show(w.translate(0x20_f000))).toBe('ok 0x6020f000 NonSecure');
  });

  it('translation faults take priority over the output check', () => {
    const w = new World();
    w.pt.map(w.root0, 0x1000, 0x6000_0000, 3, { ap: 0 });
    w.gpt.setGpi(0x6000_0000, Gpi.Root);
    expect(show(w.translate(0x1000, 0, READ))).toBe('Permission L3');
  });
});

describe('MMU off (SCTLR_ELx.M = 0)', () => {
  it("VA = PA in the state's own PAS, every permission, output GPC-checked", () => {
    const w = new World();
    w.sctlr = [0, 0];
    const out = w.translate(0x6000_1234, 0, WRITE);
    expect(show(out)).toBe('ok 0x60001234 NonSecure');
    expect(out.perms).toBe(0x3f);
    expect(show(w.translate(0x6000_1234, 1, FETCH, Pas.Realm))).toBe('GPF L0 gpt1');
    w.gpt.setGpi(0x6000_1000, Gpi.Realm);
    expect(show(w.translate(0x6000_1234, 1, READ, Pas.Realm))).toBe('ok 0x60001234 Realm');
    expect(show(w.translate(0x6000_1234, 1, READ))).toBe('GPF L0 gpt1');
  });

  it('VAs beyond the PA size are Address size faults at level 0', () => {
    const w = new World();
    w.sctlr = [0, 0];
    expect(show(w.translate(2 ** 48))).toBe('AddressSize L0');
    expect(show(w.translate(-4096))).toBe('AddressSize L0');
    expect(show(w.translate(2 ** 48 - 4096))).toBe('ok 0xfffffffff000 NonSecure');
  });
});

describe('output PAS by security state (spec §1.3)', () => {
  it('Non-secure state ignores the NS bit; Realm EL1&0 outputs Realm', () => {
    const w = new World({ gpt: 'any' });
    w.pt.map(w.root0, 0x1000, 0x6000_0000, 3, { ns: true });
    expect(show(w.translate(0x1000))).toBe('ok 0x60000000 NonSecure');
    expect(show(w.translate(0x1000, 1, READ, Pas.Realm))).toBe('ok 0x60000000 Realm');
  });

  it('Secure state: NS = 1 or an NSTable on the path selects the Non-secure PAS', () => {
    const w = new World({ gpt: 'any' });
    w.pt.map(w.root0, 0x1000, 0x6000_0000, 3);
    w.pt.map(w.root0, 0x2000, 0x6000_1000, 3, { ns: true });
    w.mapWithTables(w.root0, 0x80_0000_0000, leafDescriptor(0x6000_2000, 3), [{ nsTable: true }]);
    expect(show(w.translate(0x1000, 1, READ, Pas.Secure))).toBe('ok 0x60000000 Secure');
    expect(show(w.translate(0x2000, 1, READ, Pas.Secure))).toBe('ok 0x60001000 NonSecure');
    expect(show(w.translate(0x80_0000_0000, 1, READ, Pas.Secure))).toBe('ok 0x60002000 NonSecure');
    // The GPC compares the PAS of the access: a Secure-only granule refuses the NS-mapped access.
    w.gpt.setL0Table(1, 0x4100_0000, Gpi.Secure);
    expect(show(w.translate(0x1000, 1, READ, Pas.Secure))).toBe('ok 0x60000000 Secure');
    expect(show(w.translate(0x2000, 1, READ, Pas.Secure))).toBe('GPF L3 gpt1');
  });
});

describe('EL3 regime', () => {
  function el3(w: World, tcr = tcrEl3(), sctlr: [number, number] = [1, 0]): Regime {
    return decodeEl3({ tcr: [tcr, 0], ttbr0: ttbr(w.root0), sctlr }, 48);
  }

  it('{NSE (bit 11), NS (bit 5)} select the output PAS (spec encodings 0x8_8000_1F23 / 0x8_8000_1723)', () => {
    const w = new World({ gpt: 'any' });
    expect(leafDescriptor(0x8_8000_1000, 3, { ns: true, nse: true })).toBe(0x8_8000_1f23n);
    expect(leafDescriptor(0x8_8000_1000, 3, { ns: true })).toBe(0x8_8000_1723n);
    w.pt.setEntry(w.root0, 0x1000, 3, 0x8_8000_1f23n);
    w.pt.setEntry(w.root0, 0x2000, 3, 0x8_8000_1723n);
    w.pt.map(w.root0, 0x3000, 0x8_8000_1000, 3, { nse: true });
    w.pt.map(w.root0, 0x4000, 0x8_8000_1000, 3, {});
    const regime = el3(w);
    const at = (va: number, access: Access = READ): TranslationResult =>
      w.translate(va, 3, access, Pas.Root, regime);
    expect(show(at(0x1000))).toBe('ok 0x880001000 Realm');
    expect(show(at(0x2000))).toBe('ok 0x880001000 NonSecure');
    expect(show(at(0x3000))).toBe('ok 0x880001000 Root');
    expect(show(at(0x4000))).toBe('ok 0x880001000 Secure');
    // Bit 11 is NSE here, not nG: EL3 entries are global.
    expect(at(0x1000).global).toBe(true);
    // R_ZWRVD: EL3 cannot execute from a non-Root PAS.
    expect(show(at(0x3000, FETCH))).toBe('ok 0x880001000 Root');
    for (const va of [0x1000, 0x2000, 0x4000]) expect(show(at(va, FETCH))).toBe('Permission L3');
  });

  it('the GPC checks the output PAS the descriptor selected (V1 outcomes at EL3)', () => {
    const w = new World();
    w.gpt.setL0Table(0x22, 0x4102_0000, Gpi.NonSecure);
    w.gpt.setGpi(0x8_8000_1000, Gpi.Realm);
    w.pt.setEntry(w.root0, 0x1000, 3, 0x8_8000_1f23n); // Realm PAS
    w.pt.map(w.root0, 0x3000, 0x8_8000_1000, 3, { nse: true }); // Root PAS
    w.gpt.setGpiRange(0x5000_0000, 0x10_0000, Gpi.Root); // tables are Root memory for an EL3 walk
    const regime = el3(w);
    expect(show(w.translate(0x1000, 3, READ, Pas.Root, regime))).toBe('ok 0x880001000 Realm');
    expect(show(w.translate(0x3000, 3, READ, Pas.Root, regime))).toBe('GPF L3 gpt1');
  });

  it('one VA range: negative VAs fault; AP[2] = 1 removes write; XN (bit 54) removes execute', () => {
    const w = new World({ gpt: 'any' });
    w.pt.map(w.root0, 0x1000, 0x6000_0000, 3, { nse: true, ap: 2 });
    w.pt.map(w.root0, 0x2000, 0x6000_0000, 3, { nse: true, uxn: true });
    const regime = el3(w);
    expect(show(w.translate(-0x1000, 3, READ, Pas.Root, regime))).toBe('Translation L0');
    expect(show(w.translate(0x1000, 3, WRITE, Pas.Root, regime))).toBe('Permission L3');
    expect(show(w.translate(0x1000, 3, FETCH, Pas.Root, regime))).toBe('ok 0x60000000 Root');
    expect(show(w.translate(0x2000, 3, FETCH, Pas.Root, regime))).toBe('Permission L3');
    expect(show(w.translate(0x2000, 3, WRITE, Pas.Root, regime))).toBe('ok 0x60000000 Root');
  });

  it('MMU off at EL3: Root PAS', () => {
    const w = new World();
    w.gpt.setGpi(0x6000_0000, Gpi.Root);
    const regime = el3(w, tcrEl3(), [0, 0]);
    expect(show(w.translate(0x6000_0010, 3, FETCH, Pas.Root, regime))).toBe('ok 0x60000010 Root');
    expect(show(w.translate(0x6000_1010, 3, READ, Pas.Root, regime))).toBe('GPF L0 gpt1');
  });
});
