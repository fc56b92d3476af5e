/**
 * The GPT library (src/firmware/gpt.ts) against TF-A lib/gpt_rme semantics: every validation rule
 * of gpt_init_l0_tables / gpt_init_pas_l1_tables (spec/cca-hardware.md §5.1), gpt_enable (§4.2),
 * gpt_transition_pas with its policy table and maintenance sequences (§4.4, §5.2), Contiguous
 * descriptors, shattering and fusing, checked in memory and through the PE's GPC. Encodings and
 * operands are the worked examples of spec §8 (V1: PPS 1 TB, 4 KB granules, PA 0x8_8000_1000).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ev } from '../../src/hw/cost.js';
import { Gpi, Pas } from '../../src/hw/pas.js';
import {
  Errno,
  GptLibrary,
  gptMapRegionBlock,
  gptMapRegionGranule,
  type GptLibParams,
  type PasRegion,
} from '../../src/firmware/gpt.js';
import {
  atEl3,
  bareFixture,
  canRead,
  dropToEl1,
  GIB,
  KIB,
  MIB,
  recordTlbis,
  word,
  type BareFixture,
} from './helpers.js';

// Bank A holds the EL3 vectors and the tables (Root); bank B is where V1's PA lives.
const BANK_A = 0x4000_0000;
const BANK_B = 0x8_8000_0000;
const EL3_VECTORS = BANK_A;
const L0 = BANK_A + 0x1_0000;
const L1_POOL = BANK_A + 0x2_0000;
const L1_POOL_BYTES = 0x1e_0000;
const ROOT_BYTES = 4 * MIB;
const EL1_VECTORS = BANK_A + 0x100_0000;
const PPS_1TB = 2;
const V1_PA = 0x8_8000_1000;
const L1_BYTES = 0x2_0000; // 4 KB granules, 1 GB L0 entries: 16384 words

const ALL_NS = 0x9999_9999_9999_9999n;
const CONT_2MB_NS = 0x191n;
const CONT_32MB_NS = 0x291n;
const CONT_512MB_NS = 0x391n;

interface GptFixture extends BareFixture {
  readonly lib: GptLibrary;
  /** PA of the L1 table describing bank B. */
  readonly l1B: number;
}

/** The standard regions: Root tables in bank A, the rest of bank A and all of bank B Non-secure. */
function standardRegions(): PasRegion[] {
  return [
    gptMapRegionGranule(BANK_A, ROOT_BYTES, Gpi.Root),
    gptMapRegionGranule(BANK_A + ROOT_BYTES, 256 * MIB - ROOT_BYTES, Gpi.NonSecure),
    gptMapRegionGranule(BANK_B, GIB, Gpi.NonSecure),
  ];
}

function bare(): BareFixture {
  return bareFixture(
    {
      dram: [
        { name: 'a', base: BANK_A, size: 256 * MIB },
        { name: 'b', base: BANK_B, size: GIB },
      ],
    },
    EL3_VECTORS,
    EL1_VECTORS,
  );
}

/** A fixture with the standard tables built and the GPC enabled; the PE stays at EL3. */
function gptFixture(params: Partial<GptLibParams> = {}, regions = standardRegions()): GptFixture {
  const fx = bare();
  const lib = new GptLibrary(fx.pe, params);
  expect(lib.gptInitL0Tables(PPS_1TB, L0, 0x2000)).toBe(0);
  expect(lib.gptInitPasL1Tables(0, L1_POOL, L1_POOL_BYTES, regions)).toBe(0);
  expect(lib.gptEnable()).toBe(0);
  const l0Entry = word(fx.machine, L0 + 8 * 34);
  return Object.assign(fx, { lib, l1B: Number(l0Entry & 0xf_ffff_ffff_f000n) });
}

/** The L1 word of bank B at word index `index`. */
function wordB(fx: GptFixture, index: number): bigint {
  return word(fx.machine, fx.l1B + 8 * index);
}

/** Run a transition at EL3 (the PE is at EL1: through an SMC). */
function transitionFromEl1(fx: GptFixture, base: number, target: number, caller: Pas): number {
  let rc = 1;
  atEl3(fx, () => (rc = fx.lib.gptTransitionPas(base, 1, target, caller).rc));
  return rc;
}

describe('gptInitL0Tables (TF-A validate_l0_params)', () => {
  it('refuses a PPS above 0b110 with -EINVAL', () => {
    const lib = new GptLibrary(bare().pe);
    expect(lib.gptInitL0Tables(7, L0, 0x2000)).toBe(-Errno.EINVAL);
  });

  it('refuses a zero or misaligned base with -EFAULT (alignment max(4 KB, L0 size))', () => {
    const lib = new GptLibrary(bare().pe);
    expect(lib.gptInitL0Tables(PPS_1TB, 0, 0x2000)).toBe(-Errno.EFAULT);
    expect(lib.gptInitL0Tables(PPS_1TB, L0 + 0x1000, 0x2000)).toBe(-Errno.EFAULT); // 8 KB table
    expect(lib.gptInitL0Tables(0, L0 + 0x800, 0x1000)).toBe(-Errno.EFAULT); // 32 B table, 4 KB alignment
    expect(lib.gptInitL0Tables(0, L0 + 0x1000, 0x1000)).toBe(0);
  });

  it('refuses too little memory with -ENOMEM', () => {
    const lib = new GptLibrary(bare().pe);
    expect(lib.gptInitL0Tables(PPS_1TB, L0, 0x1fff)).toBe(-Errno.ENOMEM);
  });

  it('fills every L0 entry with Block ANY (0xF1)', () => {
    const fx = bare();
    const lib = new GptLibrary(fx.pe);
    fx.machine.memory.fill(L0, 0x3000, 0x5a);
    expect(lib.gptInitL0Tables(PPS_1TB, L0, 0x2000)).toBe(0);
    for (let i = 0; i < 1024; i++) expect(word(fx.machine, L0 + 8 * i)).toBe(0xf1n);
    expect(word(fx.machine, L0 + 0x2000)).toBe(0x5a5a_5a5a_5a5a_5a5an); // nothing beyond the table
    expect(lib.l0TableBase).toBe(L0);
  });
});

describe('gptInitPasL1Tables (TF-A validate_pas_mappings / validate_l1_params)', () => {
  function initialised(params: Partial<GptLibParams> = {}): { fx: BareFixture; lib: GptLibrary } {
    const fx = bare();
    const lib = new GptLibrary(fx.pe, params);
    expect(lib.gptInitL0Tables(PPS_1TB, L0, 0x2000)).toBe(0);
    return { fx, lib };
  }
  const ns = (base: number, size: number): PasRegion => gptMapRegionGranule(base, size, Gpi.NonSecure);

  it('refuses a reserved PGS with -EINVAL and a call before the L0 tables with -EPERM', () => {
    const { lib } = initialised();
    expect(lib.gptInitPasL1Tables(3, L1_POOL, L1_POOL_BYTES, [ns(BANK_B, MIB)])).toBe(-Errno.EINVAL);
    const fresh = new GptLibrary(bare().pe);
    expect(fresh.gptInitPasL1Tables(0, L1_POOL, L1_POOL_BYTES, [ns(BANK_B, MIB)])).toBe(-Errno.EPERM);
    expect(lib.gptInitPasL1Tables(0, L1_POOL, L1_POOL_BYTES, [])).toBe(-Errno.EINVAL);
  });

  it('refuses address overflow with -EOVERFLOW and an end above 2^t with -EFAULT', () => {
    const { lib } = initialised();
    expect(lib.gptInitPasL1Tables(0, L1_POOL, L1_POOL_BYTES, [ns(2 ** 53 - 4096, 8192)])).toBe(
      -Errno.EOVERFLOW,
    );
    expect(lib.gptInitPasL1Tables(0, L1_POOL, L1_POOL_BYTES, [ns(2 ** 40 - 4096, 8192)])).toBe(-Errno.EFAULT);
    expect(lib.gptInitPasL1Tables(0, L1_POOL, L1_POOL_BYTES, [ns(2 ** 40 - 4096, 4096)])).toBe(0);
  });

  it('refuses a GPI that is reserved or not enabled by the build with -EFAULT', () => {
    const cases: [Partial<GptLibParams>, number, number][] = [
      [{}, 0xc, -Errno.EFAULT],
      [{}, 0x1, -Errno.EFAULT],
      [{ realm: false }, Gpi.Realm, -Errno.EFAULT],
      [{ realm: true }, Gpi.Realm, 0],
      [{}, Gpi.NonSecureOnly, -Errno.EFAULT],
      [{ gpc2: true }, Gpi.NonSecureOnly, 0],
      [{}, Gpi.SystemAgent, -Errno.EFAULT],
      [{}, Gpi.NonSecureProtected, -Errno.EFAULT],
      [{ gdi: true }, Gpi.NonSecureProtected, 0],
      [{}, Gpi.NoAccess, 0],
    ];
    for (const [params, gpi, expected] of cases) {
      const { lib } = initialised(params);
      expect(
        lib.gptInitPasL1Tables(0, L1_POOL, L1_POOL_BYTES, [gptMapRegionGranule(BANK_B, MIB, gpi)]),
        `GPI ${gpi}`,
      ).toBe(expected);
    }
  });

  it('refuses overlapping regions with -EFAULT', () => {
    const { lib } = initialised();
    expect(
      lib.gptInitPasL1Tables(0, L1_POOL, L1_POOL_BYTES, [ns(BANK_B, 2 * MIB), ns(BANK_B + MIB, MIB)]),
    ).toBe(-Errno.EFAULT);
    expect(
      lib.gptInitPasL1Tables(0, L1_POOL, L1_POOL_BYTES, [ns(BANK_B, 2 * MIB), ns(BANK_B + 2 * MIB, MIB)]),
    ).toBe(0);
  });

  it('refuses a region whose L0 entries are no longer Block ANY with -EFAULT; other entries still work', () => {
    const { fx, lib } = initialised();
    expect(lib.gptInitPasL1Tables(0, L1_POOL, L1_BYTES, [ns(BANK_B, MIB)])).toBe(0);
    expect(lib.gptInitPasL1Tables(0, L1_POOL + L1_BYTES, L1_BYTES, [ns(BANK_B + MIB, MIB)])).toBe(
      -Errno.EFAULT,
    );
    // A second pool for another L0 entry (multiple calls, as TF-A allows).
    expect(lib.gptInitPasL1Tables(0, L1_POOL + L1_BYTES, L1_BYTES, [ns(BANK_A + ROOT_BYTES, MIB)])).toBe(0);
    expect(word(fx.machine, L0 + 8)).toBe(BigInt(L1_POOL + L1_BYTES) | 3n);
    expect(
      lib.gptInitPasL1Tables(0, L1_POOL, L1_POOL_BYTES, [gptMapRegionBlock(GIB, GIB, Gpi.NonSecure)]),
    ).toBe(-Errno.EFAULT);
  });

  it('refuses BLOCK regions not aligned to 2^s and GRANULE regions not aligned to 2^p with -EFAULT', () => {
    const { fx, lib } = initialised();
    expect(
      lib.gptInitPasL1Tables(0, L1_POOL, L1_POOL_BYTES, [
        gptMapRegionBlock(32 * GIB + 4096, GIB, Gpi.NonSecure),
      ]),
    ).toBe(-Errno.EFAULT);
    expect(
      lib.gptInitPasL1Tables(0, L1_POOL, L1_POOL_BYTES, [
        gptMapRegionBlock(32 * GIB, GIB + 4096, Gpi.NonSecure),
      ]),
    ).toBe(-Errno.EFAULT);
    expect(lib.gptInitPasL1Tables(0, L1_POOL, L1_POOL_BYTES, [ns(BANK_B + 0x800, 4096)])).toBe(-Errno.EFAULT);
    expect(lib.gptInitPasL1Tables(0, L1_POOL, L1_POOL_BYTES, [ns(BANK_B, 4096 + 0x800)])).toBe(-Errno.EFAULT);
    // A BLOCK region writes L0 Block descriptors and needs no L1 memory at all.
    expect(lib.gptInitPasL1Tables(0, 0x123, 0, [gptMapRegionBlock(32 * GIB, 2 * GIB, Gpi.Secure)])).toBe(0);
    expect([
      word(fx.machine, L0 + 8 * 32),
      word(fx.machine, L0 + 8 * 33),
      word(fx.machine, L0 + 8 * 34),
    ]).toEqual([0x81n, 0x81n, 0xf1n]);
  });

  it('refuses an unknown mapping type with -EINVAL', () => {
    const { lib } = initialised();
    expect(
      lib.gptInitPasL1Tables(0, L1_POOL, L1_POOL_BYTES, [
        { base: BANK_B, size: MIB, gpi: Gpi.NonSecure, map: 2 },
      ]),
    ).toBe(-Errno.EINVAL);
  });

  it('refuses an unsupported translation granule with -EPERM', () => {
    const { lib } = initialised({ translationGranules: [4096] });
    expect(lib.gptInitPasL1Tables(1, L1_POOL, L1_POOL_BYTES, [ns(BANK_B, MIB)])).toBe(-Errno.EPERM);
  });

  it('refuses an L1 pool not aligned to the L1 table size (-EFAULT) or too small (-ENOMEM)', () => {
    const { lib } = initialised();
    const regions = [ns(BANK_A + ROOT_BYTES, MIB), ns(BANK_B, MIB)]; // two L0 entries
    expect(lib.gptInitPasL1Tables(0, L1_POOL + 0x1000, L1_POOL_BYTES, regions)).toBe(-Errno.EFAULT);
    expect(lib.gptInitPasL1Tables(0, L1_POOL, 2 * L1_BYTES - 1, regions)).toBe(-Errno.ENOMEM);
    expect(lib.gptInitPasL1Tables(0, L1_POOL, 2 * L1_BYTES, regions)).toBe(0);
  });

  it('counts an L0 entry shared by several GRANULE regions once', () => {
    const { fx, lib } = initialised();
    const regions = [
      ns(BANK_B, MIB),
      gptMapRegionGranule(BANK_B + 8 * MIB, MIB, Gpi.Secure),
      ns(BANK_B + 16 * MIB, MIB),
    ];
    expect(lib.gptInitPasL1Tables(0, L1_POOL, L1_BYTES, regions)).toBe(0);
    expect(lib.readGpi(BANK_B + 8 * MIB)).toBe(Gpi.Secure);
    expect(lib.readGpi(BANK_B + 4 * MIB)).toBe(Gpi.Any); // not covered: ANY
    expect(word(fx.machine, L0 + 8 * 34)).toBe(BigInt(L1_POOL) | 3n);
  });

  it('a refused call leaves the tables untouched', () => {
    const { fx, lib } = initialised();
    expect(
      lib.gptInitPasL1Tables(0, L1_POOL, L1_POOL_BYTES, [
        ns(BANK_B, MIB),
        { base: BANK_B + MIB, size: MIB, gpi: 0xe, map: 1 },
      ]),
    ).toBe(-Errno.EFAULT);
    for (let i = 0; i < 1024; i++) expect(word(fx.machine, L0 + 8 * i)).toBe(0xf1n);
  });
});

describe('Contiguous descriptors at construction (RME_GPT_MAX_BLOCK)', () => {
  it.each([
    [512, CONT_512MB_NS],
    [32, CONT_32MB_NS],
    [2, CONT_2MB_NS],
    [0, ALL_NS],
  ])('max %i MB: a 1 GB region is written as %s in every word', (maxBlockMb, expected) => {
    const fx = gptFixture({ maxBlockMb });
    for (let i = 0; i < L1_BYTES / 8; i++) if (wordB(fx, i) !== expected) expect(wordB(fx, i)).toBe(expected);
  });

  it('a range that does not start 2 MB-aligned gets Granules descriptors up to the boundary', () => {
    const fx = gptFixture({ maxBlockMb: 512 }, [
      gptMapRegionGranule(BANK_A, ROOT_BYTES, Gpi.Root),
      gptMapRegionGranule(BANK_B + 0x1000, 6 * MIB - 0x1000, Gpi.NonSecure),
    ]);
    expect(wordB(fx, 0)).toBe(0x9999_9999_9999_999fn); // granule 0 stays ANY
    for (let i = 1; i < 32; i++) expect(wordB(fx, i)).toBe(ALL_NS);
    for (let i = 32; i < 96; i++) expect(wordB(fx, i)).toBe(CONT_2MB_NS); // 4 MB < 32 MB: two 2 MB blocks
    expect(wordB(fx, 96)).toBe(0xffff_ffff_ffff_ffffn);
  });

  it('the hardware walk agrees with the library for random region sets (property)', () => {
    const granule = 4 * KIB;
    const regionArb = fc.record({
      startGranule: fc.integer({ min: 0, max: 16383 }),
      granules: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 512, max: 9000 })),
      gpi: fc.constantFrom(Gpi.NonSecure, Gpi.Secure, Gpi.Realm, Gpi.Root, Gpi.NoAccess),
    });
    fc.assert(
      fc.property(
        fc.array(regionArb, { minLength: 1, maxLength: 5 }),
        fc.constantFrom(0, 2, 32, 512),
        fc.array(fc.integer({ min: 0, max: 16 * 1024 - 1 }), { minLength: 20, maxLength: 20 }),
        (candidates, maxBlockMb, probes) => {
          // Keep the regions that do not overlap an earlier one, clipped to the first 64 MB of bank B.
          const regions: PasRegion[] = [];
          for (const c of candidates) {
            const base = BANK_B + c.startGranule * granule;
            const size = Math.min(c.granules, 16384 - c.startGranule) * granule;
            if (regions.some((r) => base < r.base + r.size && r.base < base + size)) continue;
            regions.push(gptMapRegionGranule(base, size, c.gpi));
          }
          const fx = gptFixture({ maxBlockMb }, [
            gptMapRegionGranule(BANK_A, ROOT_BYTES, Gpi.Root),
            ...regions,
          ]);
          for (const probe of probes) {
            const pa = BANK_B + probe * granule;
            const expected = regions.find((r) => pa >= r.base && pa < r.base + r.size)?.gpi ?? Gpi.Any;
            expect(fx.lib.readGpi(pa)).toBe(expected);
            const nsOk = fx.pe.gpc.check(pa, Pas.NonSecure, Pas.NonSecure) === 0;
            expect(nsOk).toBe(expected === Gpi.NonSecure || expected === Gpi.Any);
            const realmOk = fx.pe.gpc.check(pa, Pas.Realm, Pas.Realm) === 0;
            expect(realmOk).toBe(expected === Gpi.Realm || expected === Gpi.Any);
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe('gptEnable (§4.2)', () => {
  it('refuses to enable before the tables exist (-EPERM)', () => {
    const lib = new GptLibrary(bare().pe);
    expect(lib.gptEnable()).toBe(-Errno.EPERM);
  });

  it('programs GPTBR_EL3 and GPCCR_EL3 with two TLBI PAALLOS, then the GPC checks accesses', () => {
    const fx = bare();
    const lib = new GptLibrary(fx.pe, { gpc2: true, gdi: true });
    expect(lib.gptInitL0Tables(PPS_1TB, L0, 0x2000)).toBe(0);
    expect(lib.gptInitPasL1Tables(0, L1_POOL, L1_POOL_BYTES, standardRegions())).toBe(0);
    const seen = recordTlbis(fx.pe, () => expect(lib.gptEnable()).toBe(0));
    expect(seen).toEqual([
      ['PAALLOS', 0],
      ['PAALLOS', 0],
    ]);
    expect(fx.pe.regs.number('GPTBR_EL3')).toBe(L0 / 4096);
    const gpccr = fx.pe.regs.low('GPCCR_EL3');
    expect(gpccr & 7).toBe(PPS_1TB); // PPS
    expect((gpccr >>> 8) & 3).toBe(1); // IRGN WB-RA-WA
    expect((gpccr >>> 10) & 3).toBe(1); // ORGN WB-RA-WA
    expect((gpccr >>> 12) & 3).toBe(3); // SH Inner Shareable
    expect((gpccr >>> 14) & 3).toBe(0); // PGS 4 KB
    expect((gpccr >>> 16) & 1).toBe(1); // GPC
    expect((gpccr >>> 19) & 1).toBe(1); // NSO (GPC2)
    expect((gpccr >>> 25) & 3).toBe(3); // SA, NSP (GDI)
    dropToEl1(fx.pe);
    expect(canRead(fx.pe, BANK_B)).toBe(true);
    expect(canRead(fx.pe, BANK_A + 0x8000)).toBe(false); // Root region
    expect(fx.el1Faults.map((esr) => esr & 0x3f)).toEqual([0x28]);
  });
});

describe('gptTransitionPas: sequences (§4.4), operands (§8 V1)', () => {
  it('delegate NS → REALM: V1 word, TLBI RPALOS 0x88_0001, DC CIPAPA in both PAS, GPF after the TLBI', () => {
    const fx = gptFixture({ maxBlockMb: 0 });
    dropToEl1(fx.pe);
    expect(canRead(fx.pe, V1_PA)).toBe(true); // fills the TLB under NS
    const dcBefore = fx.pe.counters[Ev.DcCipapa]!;
    let tlbis: [string, number][] = [];
    atEl3(fx, (pe) => {
      tlbis = recordTlbis(pe, () =>
        expect(fx.lib.gptTransitionPas(V1_PA, 1, Gpi.Realm, Pas.Realm)).toEqual({ rc: 0, granuleCount: 1 }),
      );
    });
    expect(wordB(fx, 0)).toBe(0x9999_9999_9999_99b9n);
    expect(tlbis).toEqual([['RPALOS', 0x88_0001]]);
    expect(fx.pe.counters[Ev.DcCipapa]! - dcBefore).toBe(2 * (4096 / 64));
    expect(canRead(fx.pe, V1_PA)).toBe(false);
    expect(fx.el1Faults.at(-1)! & 0x3f).toBe(0x28);
    expect(canRead(fx.pe, V1_PA + 0x1000)).toBe(true);
  });

  it('undelegate REALM → NS goes through NO_ACCESS, cleans both PAS, and opens the granule again', () => {
    const fx = gptFixture({ maxBlockMb: 0 });
    dropToEl1(fx.pe);
    expect(transitionFromEl1(fx, V1_PA, Gpi.Realm, Pas.Realm)).toBe(0);
    const wordsAtTlbi: bigint[] = [];
    const dcBefore = fx.pe.counters[Ev.DcCipapa]!;
    atEl3(fx, (pe) => {
      const tlbis = recordTlbis(pe, () => {
        const original = pe.tlbi;
        pe.tlbi = (op, operand, asid) => {
          wordsAtTlbi.push(wordB(fx, 0));
          return original.call(pe, op, operand, asid);
        };
        expect(fx.lib.gptTransitionPas(V1_PA, 1, Gpi.NonSecure, Pas.Realm).rc).toBe(0);
      });
      expect(tlbis).toEqual([
        ['RPALOS', 0x88_0001],
        ['RPALOS', 0x88_0001],
      ]);
    });
    expect(wordsAtTlbi).toEqual([0x9999_9999_9999_9909n, ALL_NS]);
    expect(fx.pe.counters[Ev.DcCipapa]! - dcBefore).toBe(128);
    expect(canRead(fx.pe, V1_PA)).toBe(true);
  });

  it('Secure caller: NS ↔ SECURE; NS ↔ NSO (GPC2) is a plain write and TLBI without cache maintenance', () => {
    const fx = gptFixture({ maxBlockMb: 0, gpc2: true });
    const lib = fx.lib;
    expect(lib.gptTransitionPas(V1_PA, 1, Gpi.Secure, Pas.Secure).rc).toBe(0);
    expect(lib.readGpi(V1_PA)).toBe(Gpi.Secure);
    expect(lib.gptTransitionPas(V1_PA, 1, Gpi.NonSecure, Pas.Secure).rc).toBe(0);
    const dcBefore = fx.pe.counters[Ev.DcCipapa]!;
    const tlbis = recordTlbis(fx.pe, () =>
      expect(lib.gptTransitionPas(V1_PA, 1, Gpi.NonSecureOnly, Pas.NonSecure).rc).toBe(0),
    );
    expect(tlbis).toEqual([['RPALOS', 0x88_0001]]);
    expect(fx.pe.counters[Ev.DcCipapa]!).toBe(dcBefore);
    expect(wordB(fx, 0)).toBe(0x9999_9999_9999_99d9n);
    expect(lib.gptTransitionPas(V1_PA, 1, Gpi.NonSecure, Pas.NonSecure).rc).toBe(0);
    expect(wordB(fx, 0)).toBe(ALL_NS);
  });

  it('GDI: a Non-secure caller may move NS → SA/NSP and back (NSO with GPC2)', () => {
    const fx = gptFixture({ maxBlockMb: 0, gdi: true, gpc2: true });
    const lib = fx.lib;
    expect(lib.gptTransitionPas(V1_PA, 1, Gpi.SystemAgent, Pas.NonSecure).rc).toBe(0);
    expect(lib.readGpi(V1_PA)).toBe(Gpi.SystemAgent);
    expect(lib.gptTransitionPas(V1_PA, 1, Gpi.NonSecureOnly, Pas.NonSecure).rc).toBe(0);
    expect(lib.gptTransitionPas(V1_PA, 1, Gpi.NonSecureProtected, Pas.NonSecure).rc).toBe(0);
    expect(lib.gptTransitionPas(V1_PA, 1, Gpi.NonSecure, Pas.NonSecure).rc).toBe(0);
    expect(lib.gptTransitionPas(V1_PA, 1, Gpi.Realm, Pas.NonSecure).rc).toBe(-Errno.EPERM);
  });
});

describe('DC CIPAPA (the PE instruction the sequences use)', () => {
  it('is EL3-only: UNDEFINED at EL1, counted at EL3', () => {
    const fx = gptFixture();
    expect(fx.pe.dcCipapa(V1_PA, Pas.Realm)).toBe(true);
    expect(fx.pe.counters[Ev.DcCipapa]).toBe(1);
    dropToEl1(fx.pe);
    expect(fx.pe.dcCipapa(V1_PA, Pas.NonSecure)).toBe(false);
    expect(fx.el1Faults.map((esr) => esr >>> 26)).toEqual([0]); // EC 0: Unknown reason
    expect(fx.pe.counters[Ev.DcCipapa]).toBe(1);
  });
});

describe('gptTransitionPas: refusals (§5.2)', () => {
  it.each<[string, Partial<GptLibParams>, number, number, number, Pas, number]>([
    ['a granule count other than 1', {}, V1_PA, 2, Gpi.Realm, Pas.Realm, -Errno.EINVAL],
    ['a reserved target GPI', {}, V1_PA, 1, 0xc, Pas.Realm, -Errno.EPERM],
    ['REALM without ENABLE_RMM', { realm: false }, V1_PA, 1, Gpi.Realm, Pas.Realm, -Errno.EPERM],
    ['NSO without GPC2', {}, V1_PA, 1, Gpi.NonSecureOnly, Pas.NonSecure, -Errno.EPERM],
    ['a misaligned base', {}, V1_PA + 0x10, 1, Gpi.Realm, Pas.Realm, -Errno.EINVAL],
    ['the last granule below PPS (TF-A quirk)', {}, 2 ** 40 - 4096, 1, Gpi.Realm, Pas.Realm, -Errno.EINVAL],
    ['a PA above PPS', {}, 2 ** 40, 1, Gpi.Realm, Pas.Realm, -Errno.EINVAL],
    ['a PA under an L0 Block descriptor', {}, 0x1_0000_0000, 1, Gpi.Realm, Pas.Realm, -Errno.EINVAL],
    ['NS → REALM by a Non-secure caller', {}, V1_PA, 1, Gpi.Realm, Pas.NonSecure, -Errno.EPERM],
    ['NS → SECURE by a Realm caller', {}, V1_PA, 1, Gpi.Secure, Pas.Realm, -Errno.EPERM],
    ['NS → NS by a Realm caller', {}, V1_PA, 1, Gpi.NonSecure, Pas.Realm, -Errno.EPERM],
    ['ROOT → NS by a Realm caller', {}, BANK_A + 0x4000, 1, Gpi.NonSecure, Pas.Realm, -Errno.EPERM],
    ['anything by a Root caller', {}, V1_PA, 1, Gpi.Realm, Pas.Root, -Errno.EPERM],
  ])('refuses %s', (_what, params, base, count, target, caller, expected) => {
    const fx = gptFixture({ maxBlockMb: 0, ...params });
    const before = wordB(fx, 0);
    expect(fx.lib.gptTransitionPas(base, count, target, caller)).toEqual({ rc: expected, granuleCount: 0 });
    expect(wordB(fx, 0)).toBe(before);
  });

  it('refuses to delegate twice and to undelegate a granule the caller does not own', () => {
    const fx = gptFixture({ maxBlockMb: 0 });
    expect(fx.lib.gptTransitionPas(V1_PA, 1, Gpi.Realm, Pas.Realm).rc).toBe(0);
    expect(fx.lib.gptTransitionPas(V1_PA, 1, Gpi.Realm, Pas.Realm).rc).toBe(-Errno.EPERM);
    expect(fx.lib.gptTransitionPas(V1_PA, 1, Gpi.NonSecure, Pas.Secure).rc).toBe(-Errno.EPERM);
    expect(fx.lib.readGpi(V1_PA)).toBe(Gpi.Realm);
  });

  it('refuses a transition before the tables exist', () => {
    const lib = new GptLibrary(bare().pe);
    expect(lib.gptTransitionPas(V1_PA, 1, Gpi.Realm, Pas.Realm)).toEqual({
      rc: -Errno.EPERM,
      granuleCount: 0,
    });
  });
});

describe('shatter and fuse of Contiguous descriptors', () => {
  it('2 MB: shatter with TLBI RPALOS of the block (0x3000_0088_0000), fuse back with no TLBI', () => {
    const fx = gptFixture({ maxBlockMb: 2 });
    for (let i = 0; i < 64; i++) expect(wordB(fx, i)).toBe(CONT_2MB_NS);
    dropToEl1(fx.pe);
    expect(canRead(fx.pe, V1_PA)).toBe(true);
    expect(canRead(fx.pe, V1_PA + 0x10_0000)).toBe(true);
    let tlbis: [string, number][] = [];
    atEl3(fx, (pe) => {
      tlbis = recordTlbis(pe, () =>
        expect(fx.lib.gptTransitionPas(V1_PA, 1, Gpi.Realm, Pas.Realm).rc).toBe(0),
      );
    });
    expect(tlbis).toEqual([
      ['RPALOS', 0x3000_0088_0000],
      ['RPALOS', 0x88_0001],
    ]);
    expect(wordB(fx, 0)).toBe(0x9999_9999_9999_99b9n);
    for (let i = 1; i < 32; i++) expect(wordB(fx, i)).toBe(ALL_NS);
    expect(wordB(fx, 32)).toBe(CONT_2MB_NS);
    expect(canRead(fx.pe, V1_PA)).toBe(false);
    expect(canRead(fx.pe, V1_PA + 0x10_0000)).toBe(true); // same block, still NS after the shatter
    atEl3(fx, (pe) => {
      tlbis = recordTlbis(pe, () =>
        expect(fx.lib.gptTransitionPas(V1_PA, 1, Gpi.NonSecure, Pas.Realm).rc).toBe(0),
      );
    });
    expect(tlbis).toEqual([
      ['RPALOS', 0x88_0001],
      ['RPALOS', 0x88_0001],
    ]);
    for (let i = 0; i < 64; i++) expect(wordB(fx, i)).toBe(CONT_2MB_NS);
    expect(canRead(fx.pe, V1_PA)).toBe(true);
  });

  it('512 MB: shatter into 32 MB / 2 MB blocks around the granule and fuse back to 512 MB', () => {
    const fx = gptFixture({ maxBlockMb: 512 });
    const pa = 0x8_8123_4000; // 2 MB block 0x8_8120_0000 in the first 32 MB block
    const tlbis = recordTlbis(fx.pe, () =>
      expect(fx.lib.gptTransitionPas(pa, 1, Gpi.Secure, Pas.Secure).rc).toBe(0),
    );
    expect(tlbis[0]).toEqual(['RPALOS', BANK_B / 4096 + 5 * 2 ** 44]);
    const wordsPer2Mb = 32;
    const index = (offset: number): number => Math.floor(offset / (64 * KIB));
    const target = index(pa - BANK_B);
    for (let i = 0; i < L1_BYTES / 8; i++) {
      const offset = i * 64 * KIB;
      let expected: bigint;
      if (offset >= 512 * MIB) expected = CONT_512MB_NS;
      else if (offset >= 32 * MIB) expected = CONT_32MB_NS;
      else if (Math.floor(i / wordsPer2Mb) !== Math.floor(target / wordsPer2Mb)) expected = CONT_2MB_NS;
      else if (i === target)
        expected = 0x9999_9999_9998_9999n; // granule 4 of the word is Secure
      else expected = ALL_NS;
      if (wordB(fx, i) !== expected) expect([i, wordB(fx, i)]).toEqual([i, expected]);
    }
    expect(fx.pe.gpc.check(pa, Pas.NonSecure, Pas.NonSecure)).not.toBe(0);
    expect(fx.pe.gpc.check(pa + 0x1000, Pas.NonSecure, Pas.NonSecure)).toBe(0);
    expect(fx.lib.gptTransitionPas(pa, 1, Gpi.NonSecure, Pas.Secure).rc).toBe(0);
    for (let i = 0; i < L1_BYTES / 8; i++)
      if (wordB(fx, i) !== CONT_512MB_NS) expect([i, wordB(fx, i)]).toEqual([i, CONT_512MB_NS]);
  });

  it('random delegate/undelegate sequences keep memory, the GPC and the model in agreement (property)', () => {
    const ops = fc.array(fc.record({ granule: fc.integer({ min: 0, max: 2047 }), realm: fc.boolean() }), {
      minLength: 1,
      maxLength: 12,
    });
    fc.assert(
      fc.property(fc.constantFrom(0, 2, 32, 512), ops, (maxBlockMb, sequence) => {
        const fx = gptFixture({ maxBlockMb });
        const initial = Array.from({ length: 64 }, (_, i) => wordB(fx, i * 256));
        const state = new Map<number, number>();
        for (const op of sequence) {
          const pa = BANK_B + op.granule * 4096;
          const current = state.get(pa) ?? Gpi.NonSecure;
          const target = op.realm ? Gpi.Realm : Gpi.NonSecure;
          const allowed = current !== target;
          expect(fx.lib.gptTransitionPas(pa, 1, target, Pas.Realm).rc).toBe(allowed ? 0 : -Errno.EPERM);
          if (allowed) state.set(pa, target);
          expect(fx.lib.readGpi(pa)).toBe(state.get(pa) ?? Gpi.NonSecure);
          expect(fx.pe.gpc.check(pa, Pas.NonSecure, Pas.NonSecure) === 0).toBe(
            (state.get(pa) ?? Gpi.NonSecure) === Gpi.NonSecure,
          );
          expect(fx.pe.gpc.check(pa, Pas.Realm, Pas.Realm) === 0).toBe(state.get(pa) === Gpi.Realm);
        }
        for (const [pa, gpi] of state)
          if (gpi === Gpi.Realm) expect(fx.lib.gptTransitionPas(pa, 1, Gpi.NonSecure, Pas.Realm).rc).toBe(0);
        // Fusing restores the descriptors the construction wrote.
        expect(Array.from({ length: 64 }, (_, i) => wordB(fx, i * 256))).toEqual(initial);
      }),
      { numRuns: 20 },
    );
  });
});
