/**
 * Property tests (fast-check) of hw-layer invariants, each against an independent reference model
 * written from spec/cca-hardware.md:
 *  1. a Non-secure access never succeeds on a granule whose GPI is neither Non-secure nor ANY
 *     (nor NSO when enabled), over random GPT layouts; and the full access rule of §1.5 holds;
 *  2. a GPT edit without the matching TLBI leaves the stale permission in effect while the TLB holds
 *     the translation, and after the TLBI none survives (random access / edit / TLBI sequences);
 *  3. a translation never yields a PA that no valid leaf maps (random page-table trees);
 * plus memory round trips, TLB occupancy and invalidation, the RPALOS operand decoding, the fault
 * routing table and cycle accounting.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bigToHalves, field64, halvesToBig, join64, split64, vaFromU64, vaToU64 } from '../../src/hw/bits.js';
import { Ev, EVENT_INFO } from '../../src/hw/cost.js';
import { Ec, esrClass, routeAccessFault, type RoutedFault } from '../../src/hw/exceptions.js';
import {
  GPC_FAULT_NAMES,
  GpcFault,
  GranuleProtectionCheck,
  gpcFault,
  gpcFaultKind,
  gpcFaultLevel,
} from '../../src/hw/gpc.js';
import { PhysicalMemory } from '../../src/hw/memory.js';
import { Access, MmuFault, Stage1Walker, TranslationResult } from '../../src/hw/mmu.js';
import { Gpi, Pas } from '../../src/hw/pas.js';
import { decodeEl10 } from '../../src/hw/regime.js';
import { GLOBAL_ASID, Tlb } from '../../src/hw/tlb.js';
import {
  FX,
  GptBuilder,
  PageTableBuilder,
  atEl3,
  dataVa,
  esrFields,
  l0Block,
  l0Table,
  leafDescriptor,
  makePeFixture,
  tcrEl1,
  ttbr,
  type GptGeometry,
} from './helpers.js';

const SEED = 42;

// ==================================================================================== 1. GPC

/** The access rule of spec §1.5, written from its table: 'ok', 'GPF' or 'GPTWalk'. */
function referenceRule(gpi: number, pas: Pas, state: Pas, gates: Gates): 'ok' | 'GPF' | 'GPTWalk' {
  const base = [Gpi.NoAccess, Gpi.Secure, Gpi.NonSecure, Gpi.Root, Gpi.Realm, Gpi.Any] as number[];
  const enabled = [
    gates.sa ? Gpi.SystemAgent : -1,
    gates.nsp ? Gpi.NonSecureProtected : -1,
    gates.na6 ? Gpi.NoAccess6 : -1,
    gates.na7 ? Gpi.NoAccess7 : -1,
    gates.nso ? Gpi.NonSecureOnly : -1,
  ];
  if (!base.includes(gpi) && !enabled.includes(gpi)) return 'GPTWalk';
  if (gpi === Gpi.Any) return 'ok';
  if (gpi === Gpi.Secure) return pas === Pas.Secure ? 'ok' : 'GPF';
  if (gpi === Gpi.NonSecure) return pas === Pas.NonSecure ? 'ok' : 'GPF';
  if (gpi === Gpi.Root) return pas === Pas.Root ? 'ok' : 'GPF';
  if (gpi === Gpi.Realm) return pas === Pas.Realm ? 'ok' : 'GPF';
  if (gpi === Gpi.NonSecureOnly)
    return pas === Pas.NonSecure && (state === Pas.NonSecure || state === Pas.Root) ? 'ok' : 'GPF';
  return 'GPF';
}

interface Gates {
  readonly sa: boolean;
  readonly nsp: boolean;
  readonly na6: boolean;
  readonly na7: boolean;
  readonly nso: boolean;
}

type L0Spec =
  | { readonly kind: 'block'; readonly gpi: number }
  | { readonly kind: 'invalid'; readonly value: bigint }
  | { readonly kind: 'table'; readonly words: readonly { readonly index: number; readonly value: bigint }[] };

interface GptLayout {
  readonly geometry: GptGeometry;
  readonly gates: Gates;
  readonly defaultGpi: number;
  readonly entries: readonly { readonly index: number; readonly spec: L0Spec }[];
}

const GEOMETRIES: GptGeometry[] = [];
for (const t of [32, 36, 40, 42, 44])
  for (const p of [12, 14, 16]) for (const s of [30, 34, 36, 39]) GEOMETRIES.push({ t, p, s });

const gpiArb = fc.integer({ min: 0, max: 15 });
/** An L1 word: a Granules descriptor (random nibbles, biased to real GPIs) or a Contiguous one. */
const l1WordArb = fc.oneof(
  fc
    .array(fc.oneof(fc.constantFrom(0x0, 0x8, 0x9, 0xa, 0xb, 0xf, 0xd), gpiArb), {
      minLength: 16,
      maxLength: 16,
    })
    .map((nibbles) => {
      if (nibbles[0] === 1) nibbles[0] = 9; // granule 0 = 0b0001 would make a Contiguous descriptor
      return nibbles.reduce((word, gpi, i) => word | (BigInt(gpi) << BigInt(4 * i)), 0n);
    }),
  fc
    .record({
      gpi: gpiArb,
      contig: fc.integer({ min: 0, max: 3 }),
      junk: fc.constantFrom(0n, 0n, 0n, 1n << 10n, 1n << 40n),
    })
    .map(({ gpi, contig, junk }) => BigInt(0x1 | (gpi << 4) | (contig << 8)) | junk),
);
const l0SpecArb: fc.Arbitrary<L0Spec> = fc.oneof(
  { weight: 2, arbitrary: gpiArb.map((gpi) => ({ kind: 'block' as const, gpi })) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(0n, 0x2n, 0x191n, 0x4100_0013n)
      .map((value) => ({ kind: 'invalid' as const, value })),
  },
  {
    weight: 4,
    arbitrary: fc
      .array(fc.record({ index: fc.nat(), value: l1WordArb }), { minLength: 1, maxLength: 8 })
      .map((words) => ({ kind: 'table' as const, words })),
  },
);
const layoutArb: fc.Arbitrary<GptLayout> = fc.record({
  geometry: fc.constantFrom(...GEOMETRIES),
  gates: fc.record({
    sa: fc.boolean(),
    nsp: fc.boolean(),
    na6: fc.boolean(),
    na7: fc.boolean(),
    nso: fc.boolean(),
  }),
  defaultGpi: fc.constantFrom(Gpi.NonSecure, Gpi.Any, Gpi.Root, Gpi.NoAccess, Gpi.Realm),
  entries: fc.array(fc.record({ index: fc.nat(), spec: l0SpecArb }), { minLength: 1, maxLength: 5 }),
});

/** The layout with indices reduced to the geometry (later entries win, like writes do). */
function normalise(layout: GptLayout): { l0: Map<number, L0Spec>; l0Entries: number; l1Words: number } {
  const { t, p, s } = layout.geometry;
  const l0Entries = 2 ** Math.max(t - s, 0);
  const l1Words = 2 ** (s - p - 4);
  // Words that describe PAs below PPS (all of them unless t < s).
  const usableWords = 2 ** (Math.min(s, t) - p - 4);
  const l0 = new Map<number, L0Spec>();
  for (const { index, spec } of layout.entries) {
    if (spec.kind === 'table') {
      l0.set(index % l0Entries, {
        kind: 'table',
        words: spec.words.map((w) => ({ index: w.index % usableWords, value: w.value })),
      });
    } else {
      l0.set(index % l0Entries, spec);
    }
  }
  return { l0, l0Entries, l1Words };
}

const L0_BASE = 0x4000_0000;
const L1_AREA = 0x8000_0000;

/** Write the layout into fresh memory and return a configured GPC unit. */
function buildGpt(layout: GptLayout): { gpc: GranuleProtectionCheck; l0: Map<number, L0Spec> } {
  const memory = new PhysicalMemory([{ name: 'dram', base: 0x4000_0000, size: 0xc000_0000 }]);
  const { l0, l0Entries } = normalise(layout);
  const gpt = new GptBuilder(memory, layout.geometry, L0_BASE);
  const l1Stride = Math.max(gpt.l1Bytes, 4096);
  let tables = 0;
  // Every L0 entry a block with the default GPI, in one block write.
  const image = new Uint8Array(8 * l0Entries);
  for (let i = 0; i < l0Entries; i++) image[8 * i] = Number(l0Block(layout.defaultGpi));
  memory.writeBytes(L0_BASE, image);
  for (const [i, spec] of l0) {
    if (spec.kind === 'block') gpt.setL0(i, l0Block(spec.gpi));
    else if (spec.kind === 'invalid') gpt.setL0(i, spec.value);
    else {
      const base = L1_AREA + tables++ * l1Stride;
      gpt.setL0(i, l0Table(base));
      for (const w of spec.words) memory.write64Big(base + 8 * w.index, w.value);
    }
  }
  const gpc = new GranuleProtectionCheck(memory, 48);
  gpc.configure(gpt.gpccr(layout.gates), ...gpt.gptbr());
  return { gpc, l0 };
}

/** Reference GPT lookup: the GPI and level for `pa`, or a walk fault at a level. */
function referenceLookup(
  layout: GptLayout,
  l0: Map<number, L0Spec>,
  pa: number,
): { gpi: number; level: 0 | 1 } | { walk: 0 | 1 } {
  const { t, p, s } = layout.geometry;
  const l0Index = t > s ? Math.floor(pa / 2 ** s) : 0;
  const spec = l0.get(l0Index) ?? { kind: 'block', gpi: layout.defaultGpi };
  if (spec.kind === 'invalid') return { walk: 0 };
  if (spec.kind === 'block') return { gpi: spec.gpi, level: 0 };
  const l1Index = Math.floor(pa / 2 ** (p + 4)) % 2 ** (s - p - 4);
  let word = 0n;
  for (const w of spec.words) if (w.index === l1Index) word = w.value; // last write wins
  if ((word & 0xfn) === 1n) {
    const contig = Number((word >> 8n) & 3n);
    if (contig === 0 || word >> 10n !== 0n) return { walk: 1 };
    return { gpi: Number((word >> 4n) & 0xfn), level: 1 };
  }
  const nibble = Math.floor(pa / 2 ** p) % 16;
  return { gpi: Number((word >> BigInt(4 * nibble)) & 0xfn), level: 1 };
}

/** PAs that land on written descriptors (and some anywhere below PPS). */
function paArb(layout: GptLayout): fc.Arbitrary<number> {
  const { t, p, s } = layout.geometry;
  const { l0, l0Entries } = normalise(layout);
  const targeted: { l0: number; word: number }[] = [];
  for (const [index, spec] of l0) {
    if (spec.kind === 'table') for (const w of spec.words) targeted.push({ l0: index, word: w.index });
    else targeted.push({ l0: index, word: 0 });
  }
  const anywhere = fc
    .tuple(fc.nat({ max: 2 ** (t - 26) - 1 }), fc.nat({ max: 2 ** 26 - 1 }))
    .map(([hi, lo]) => hi * 2 ** 26 + lo);
  const onDescriptor = fc
    .tuple(fc.constantFrom(...targeted), fc.nat({ max: 15 }), fc.nat({ max: 2 ** p - 1 }))
    .map(
      ([target, nibble, offset]) =>
        (t > s ? target.l0 * 2 ** s : 0) + target.word * 2 ** (p + 4) + nibble * 2 ** p + offset,
    );
  void l0Entries;
  return fc.oneof({ weight: 3, arbitrary: onDescriptor }, { weight: 1, arbitrary: anywhere });
}

const ALL_PAS = [Pas.Secure, Pas.NonSecure, Pas.Root, Pas.Realm] as const;

describe('property 1: GPC over random GPT layouts', () => {
  it('a Non-secure access never succeeds on a granule whose GPI is neither Non-secure nor ANY (nor enabled NSO)', () => {
    fc.assert(
      fc.property(
        layoutArb.chain((layout) =>
          fc.tuple(fc.constant(layout), fc.array(paArb(layout), { minLength: 1, maxLength: 24 })),
        ),
        ([layout, pas]) => {
          const { gpc, l0 } = buildGpt(layout);
          for (const pa of pas) {
            const result = gpc.check(pa, Pas.NonSecure, Pas.NonSecure);
            if (result !== 0) continue;
            const ref = referenceLookup(layout, l0, pa);
            expect('gpi' in ref, `pa 0x${pa.toString(16)} allowed although its walk faults`).toBe(true);
            if (!('gpi' in ref)) continue;
            const allowed: number[] = [Gpi.NonSecure, Gpi.Any];
            if (layout.gates.nso) allowed.push(Gpi.NonSecureOnly);
            expect(allowed, `pa 0x${pa.toString(16)} has GPI ${ref.gpi}`).toContain(ref.gpi);
          }
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('every check equals the reference walk plus the access rule, for every PAS and security state', () => {
    fc.assert(
      fc.property(
        layoutArb.chain((layout) =>
          fc.tuple(fc.constant(layout), fc.array(paArb(layout), { minLength: 1, maxLength: 12 })),
        ),
        ([layout, pas]) => {
          const { gpc, l0 } = buildGpt(layout);
          for (const pa of pas) {
            const ref = referenceLookup(layout, l0, pa);
            const found = gpc.lookup(pa);
            if ('walk' in ref) {
              expect(found.walk).toBe(gpcFault(GpcFault.GPTWalk, ref.walk));
            } else {
              expect({ walk: found.walk, gpi: found.gpi, level: found.level }).toEqual({
                walk: 0,
                gpi: ref.gpi,
                level: ref.level,
              });
            }
            for (const pasOfAccess of ALL_PAS) {
              for (const state of ALL_PAS) {
                const result = gpc.check(pa, pasOfAccess, state);
                const actual =
                  result === 0 ? 'ok' : `${GPC_FAULT_NAMES[gpcFaultKind(result)]} L${gpcFaultLevel(result)}`;
                const expected =
                  'walk' in ref
                    ? `GPTWalk L${ref.walk}`
                    : ((rule) => (rule === 'ok' ? 'ok' : `${rule} L${ref.level}`))(
                        referenceRule(ref.gpi, pasOfAccess, state, layout.gates),
                      );
                expect(actual, `pa 0x${pa.toString(16)} pas ${pasOfAccess} state ${state}`).toBe(expected);
              }
            }
          }
        },
      ),
      { seed: SEED + 1, numRuns: 150 },
    );
  });
});

// ==================================================================================== 2. stale GPT info

type Op =
  | { readonly kind: 'load'; readonly page: number }
  | { readonly kind: 'store'; readonly page: number; readonly value: number }
  | { readonly kind: 'edit'; readonly page: number; readonly gpi: number }
  | { readonly kind: 'rpalos'; readonly page: number }
  | { readonly kind: 'paall' }
  | { readonly kind: 'vae1'; readonly page: number };

const PAGES = 6;
const pageArb = fc.nat({ max: PAGES - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: pageArb.map((page) => ({ kind: 'load' as const, page })) },
  {
    weight: 2,
    arbitrary: fc.tuple(pageArb, fc.nat()).map(([page, value]) => ({ kind: 'store' as const, page, value })),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(pageArb, fc.constantFrom(Gpi.NonSecure, Gpi.Any, Gpi.Root, Gpi.Realm, Gpi.Secure, Gpi.NoAccess))
      .map(([page, gpi]) => ({ kind: 'edit' as const, page, gpi })),
  },
  { weight: 2, arbitrary: pageArb.map((page) => ({ kind: 'rpalos' as const, page })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'paall' as const }) },
  { weight: 1, arbitrary: pageArb.map((page) => ({ kind: 'vae1' as const, page })) },
);

function nsAllowed(gpi: number): boolean {
  return gpi === Gpi.NonSecure || gpi === Gpi.Any;
}

describe('property 2: GPT edits, TLBIs and stale permissions on a PE', () => {
  it('the stale permission stays while the TLB holds the page; after the PA TLBI the GPT decides alone', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 10, maxLength: 60 }), (ops) => {
        const fx = makePeFixture();
        const pe = fx.pe;
        const content: number[] = [];
        for (let i = 0; i < PAGES; i++) {
          content.push(0x5000 + i);
          fx.memory.write32(dataVa(i), content[i]!);
        }
        // Reference: the GPI in memory, the GPIs a cache may still hold, and whether the TLB holds the page.
        const current: number[] = Array(PAGES).fill(Gpi.NonSecure);
        const stale: Set<number>[] = Array.from({ length: PAGES }, () => new Set<number>());
        const held: boolean[] = Array(PAGES).fill(false);

        for (const op of ops) {
          switch (op.kind) {
            case 'load':
            case 'store': {
              const i = op.page;
              let ok: boolean;
              if (op.kind === 'load') {
                pe.load32(dataVa(i));
                ok = pe.lastFault === 0;
              } else {
                ok = pe.store32(dataVa(i), op.value);
              }
              if (held[i]) {
                expect(ok, `page ${i}: a TLB-held translation must keep its permission`).toBe(true);
              } else if (stale[i]!.size === 0) {
                expect(ok, `page ${i}: after the TLBI only the GPT decides (GPI ${current[i]})`).toBe(
                  nsAllowed(current[i]!),
                );
              } else {
                const permitted = [current[i]!, ...stale[i]!].map(nsAllowed);
                expect(permitted, `page ${i}: outcome not explained by any GPI it had`).toContain(ok);
              }
              if (ok) {
                held[i] = true;
                if (op.kind === 'store') content[i] = op.value >>> 0;
                expect(pe.load32(dataVa(i))).toBe(content[i]);
              } else {
                const esr = esrFields(pe.lastFault);
                expect([esr.ec, esr.fsc]).toEqual([Ec.DataAbortSame, 0x28]);
                expect(fx.memory.read32(dataVa(i))).toBe(content[i]);
              }
              break;
            }
            case 'edit':
              if (op.gpi !== current[op.page]) stale[op.page]!.add(current[op.page]!);
              current[op.page] = op.gpi;
              fx.gpt.setGpi(dataVa(op.page), op.gpi);
              break;
            case 'rpalos':
              atEl3(fx, (p) => expect(p.tlbi('RPALOS', dataVa(op.page) / 4096)).toBe(true));
              held[op.page] = false;
              stale[op.page]!.clear();
              break;
            case 'paall':
              atEl3(fx, (p) => expect(p.tlbi('PAALL')).toBe(true));
              held.fill(false);
              for (const s of stale) s.clear();
              break;
            case 'vae1':
              expect(pe.tlbi('VAE1', dataVa(op.page))).toBe(true);
              held[op.page] = false;
              break;
          }
          expect(pe.el).toBe(1);
          expect(pe.halted).toBeUndefined();
        }
        // Finally, after PAALL no stale permission survives anywhere.
        atEl3(fx, (p) => p.tlbi('PAALL'));
        for (let i = 0; i < PAGES; i++) {
          pe.load32(dataVa(i));
          expect(pe.lastFault === 0, `page ${i} after PAALL`).toBe(nsAllowed(current[i]!));
        }
        // Cycle accounting stays consistent with the counters.
        let cycles = 0;
        for (let ev = 0; ev < EVENT_INFO.length; ev++)
          cycles += pe.counters[ev]! * fx.machine.profile.cost[ev as Ev];
        expect(pe.cycles).toBeCloseTo(cycles, 6);
        expect(pe.tlb.occupancy()).toBeLessThanOrEqual(pe.tlb.size);
      }),
      { seed: SEED, numRuns: 150 },
    );
  });

  it('TLBI RPALOS invalidates exactly the pages in the range its operand encodes', () => {
    const SIZES = [12, 14, 16, 21, 25, 29, 30, 34, 36, 39].map((b) => 2 ** b);
    const fx = makePeFixture();
    const pe = fx.pe;
    const vpns = Array.from({ length: FX.dataPages }, (_, i) => dataVa(i) / 4096);
    const held = (vpn: number): boolean => pe.tlb.vpn[pe.tlb.indexOf(vpn)] === vpn;
    const operandArb = fc
      .tuple(fc.nat({ max: 15 }), fc.boolean(), fc.integer({ min: -40, max: 40 }))
      .map(([sizeCode, aligned, k]) => {
        const size = Math.max(SIZES[sizeCode] ?? 4096, 4096);
        const basePage = aligned
          ? (Math.floor(FX.data / size) + Math.sign(k) * (Math.abs(k) % 2)) * (size / 4096)
          : FX.data / 4096 + k;
        return { sizeCode, basePage };
      });
    fc.assert(
      fc.property(operandArb, ({ sizeCode, basePage }) => {
        for (const vpn of vpns) pe.load32(vpn * 4096);
        expect(vpns.every(held)).toBe(true);
        atEl3(fx, (p) => p.tlbi('RPALOS', sizeCode * 2 ** 44 + basePage));
        // Reference decoding (spec §4.1): SIZE [47:44], BaseADDR [39:0] = PA[51:12] for 4 KB PGS.
        const size = SIZES[sizeCode];
        const base = basePage * 4096;
        for (const vpn of vpns) {
          const pa = vpn * 4096;
          const effective = size === undefined ? undefined : Math.max(size, 4096);
          const covered =
            effective !== undefined && base % effective === 0 && pa >= base && pa < base + effective;
          expect(held(vpn), `page 0x${pa.toString(16)} SIZE ${sizeCode} base 0x${base.toString(16)}`).toBe(
            !covered,
          );
        }
      }),
      { seed: SEED, numRuns: 200 },
    );
  });
});

// ==================================================================================== 3. page tables

interface LeafSpec {
  readonly range: 0 | 1;
  readonly path: readonly number[]; // indices at levels 0..level
  readonly level: 1 | 2 | 3;
  readonly frame: number;
  readonly af: boolean;
  readonly ap: number;
  readonly ng: boolean;
}

interface JunkSpec {
  readonly range: 0 | 1;
  readonly path: readonly number[];
  readonly value: bigint;
}

const INDEX_CHOICES = [0, 1, 2, 3, 255, 256, 511];
const indexArb = fc.constantFrom(...INDEX_CHOICES);
const leafArb: fc.Arbitrary<LeafSpec> = fc
  .record({
    range: fc.constantFrom(0 as const, 1 as const),
    level: fc.constantFrom(1 as const, 2 as const, 3 as const, 3 as const),
    path: fc.array(indexArb, { minLength: 4, maxLength: 4 }),
    frame: fc.nat({ max: 2 ** 36 - 1 }),
    af: fc.oneof({ weight: 5, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    ap: fc.nat({ max: 3 }),
    ng: fc.boolean(),
  })
  .map((leaf) => ({ ...leaf, path: leaf.path.slice(0, leaf.level + 1) }));
const junkArb: fc.Arbitrary<JunkSpec> = fc
  .record({
    range: fc.constantFrom(0 as const, 1 as const),
    level: fc.nat({ max: 3 }),
    path: fc.array(indexArb, { minLength: 4, maxLength: 4 }),
    raw: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    type01: fc.boolean(),
  })
  .map(({ range, level, path, raw, type01 }) => ({
    range,
    path: path.slice(0, level + 1),
    // Invalid whatever the level: bit 0 clear, or 0b01 at level 0 or 3 (a block where none may be).
    value: type01 && (level === 0 || level === 3) ? (raw & ~3n) | 1n : raw & ~1n,
  }));

function vaOf(range: 0 | 1, path: readonly number[]): number {
  const bits = path.reduce((sum, index, level) => sum + index * 2 ** (39 - 9 * level), 0);
  return range === 1 ? bits - 2 ** 48 : bits;
}

describe('property 3: translation never yields a PA that no valid leaf maps', () => {
  it('random page-table trees, random VAs: the walker agrees with the leaves that were written', () => {
    fc.assert(
      fc.property(
        fc.array(leafArb, { minLength: 1, maxLength: 24 }),
        fc.array(junkArb, { maxLength: 12 }),
        fc.array(
          fc.oneof(
            fc.record({ leaf: fc.nat(), offset: fc.nat({ max: 2 ** 30 - 1 }) }),
            fc.record({
              range: fc.constantFrom(0 as const, 1 as const),
              bits: fc.tuple(fc.nat({ max: 2 ** 16 - 1 }), fc.nat({ max: 2 ** 32 - 1 })),
            }),
            fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
          ),
          { minLength: 1, maxLength: 40 },
        ),
        (leafSpecs, junkSpecs, probes) => {
          const memory = new PhysicalMemory([{ name: 'dram', base: 0x4000_0000, size: 0x4000_0000 }]);
          const pt = new PageTableBuilder(memory, 0x4000_0000, 0x100_0000);
          const roots = [pt.newTable(), pt.newTable()] as const;
          // Occupancy of the tree: a slot is a table, a leaf or junk; leaves and junk need table parents.
          const slots = new Map<string, 'table' | 'leaf' | 'junk'>();
          const key = (range: number, path: readonly number[]): string => `${range}:${path.join('/')}`;
          const fits = (range: number, path: readonly number[]): boolean => {
            for (let l = 0; l < path.length - 1; l++) {
              const s = slots.get(key(range, path.slice(0, l + 1)));
              if (s !== undefined && s !== 'table') return false;
            }
            return !slots.has(key(range, path));
          };
          const claim = (range: number, path: readonly number[], what: 'leaf' | 'junk'): void => {
            for (let l = 0; l < path.length - 1; l++) slots.set(key(range, path.slice(0, l + 1)), 'table');
            slots.set(key(range, path), what);
          };
          const leaves: (LeafSpec & { pa: number; va: number; size: number })[] = [];
          for (const leaf of leafSpecs) {
            if (!fits(leaf.range, leaf.path)) continue;
            claim(leaf.range, leaf.path, 'leaf');
            const shift = 39 - 9 * leaf.level;
            const pa = (leaf.frame % 2 ** (48 - shift)) * 2 ** shift;
            const va = vaOf(leaf.range, leaf.path);
            pt.setEntry(
              roots[leaf.range],
              va,
              leaf.level,
              leafDescriptor(pa, leaf.level, { af: leaf.af, ap: leaf.ap, ng: leaf.ng }),
            );
            leaves.push({ ...leaf, pa, va, size: 2 ** shift });
          }
          for (const junk of junkSpecs) {
            if (!fits(junk.range, junk.path)) continue;
            claim(junk.range, junk.path, 'junk');
            pt.setEntry(roots[junk.range], vaOf(junk.range, junk.path), junk.path.length - 1, junk.value);
          }

          const gpc = new GranuleProtectionCheck(memory, 48); // GPCCR_EL3.GPC = 0: the MMU alone decides
          const regime = decodeEl10(
            { tcr: tcrEl1(), ttbr0: ttbr(roots[0]), ttbr1: ttbr(roots[1]), sctlr: [1, 0] },
            48,
          );
          const walker = new Stage1Walker(memory);
          const out = new TranslationResult();
          for (const probe of probes) {
            let va: number;
            if (typeof probe === 'bigint') va = vaFromU64(probe);
            else if ('leaf' in probe) {
              const leaf = leaves[probe.leaf % leaves.length];
              if (leaf === undefined) continue;
              va = leaf.va + (probe.offset % leaf.size);
            } else {
              const bits = probe.bits[0] * 2 ** 32 + probe.bits[1];
              va = probe.range === 1 ? bits - 2 ** 48 : bits;
            }
            walker.translate(regime, gpc, Pas.NonSecure, va, 1, Access.Read, out);
            const container = leaves.find((l) => va >= l.va && va < l.va + l.size);
            if (out.fault === MmuFault.None) {
              expect(
                container,
                `VA ${vaToU64(va).toString(16)} translated to 0x${out.pa.toString(16)} with no leaf`,
              ).toBeDefined();
              expect(container!.af).toBe(true);
              expect(out.pa).toBe(container!.pa + (va - container!.va));
              expect(out.level).toBe(container!.level);
              expect(out.global).toBe(!container!.ng);
            } else if (container !== undefined) {
              // A written leaf that faults must be one with AF = 0.
              expect(container.af).toBe(false);
              expect(out.fault).toBe(MmuFault.AccessFlag);
              expect(out.level).toBe(container.level);
            }
          }
        },
      ),
      { seed: SEED, numRuns: 200 },
    );
  });
});

// ==================================================================================== further invariants

describe('memory: random operations agree with a byte-array model', () => {
  it('write8/write32/writeBytes/fill/copy then readBytes/read8/read32 round-trip across pages', () => {
    const WINDOW = 3 * 4096;
    const BASE = 0x4000_3000;
    const offsetArb = fc.nat({ max: WINDOW - 1 });
    const opArbM = fc.oneof(
      fc.tuple(fc.constant('w8' as const), offsetArb, fc.nat({ max: 255 })),
      fc.tuple(
        fc.constant('w32' as const),
        offsetArb.map((o) => o & ~3),
        fc.nat({ max: 0xffff_ffff }),
      ),
      fc.tuple(fc.constant('bytes' as const), offsetArb, fc.uint8Array({ maxLength: 5000 })),
      fc.tuple(fc.constant('fill' as const), offsetArb, fc.nat({ max: 6000 }), fc.nat({ max: 255 })),
      fc.tuple(fc.constant('copy' as const), offsetArb, offsetArb, fc.nat({ max: 6000 })),
    );
    fc.assert(
      fc.property(fc.array(opArbM, { maxLength: 30 }), (ops) => {
        const memory = new PhysicalMemory([{ name: 'dram', base: 0x4000_0000, size: 0x10_0000 }]);
        const model = new Uint8Array(WINDOW);
        for (const op of ops) {
          switch (op[0]) {
            case 'w8':
              expect(memory.write8(BASE + op[1], op[2])).toBe(true);
              model[op[1]] = op[2];
              break;
            case 'w32':
              expect(memory.write32(BASE + op[1], op[2])).toBe(true);
              for (let b = 0; b < 4; b++) model[op[1] + b] = (op[2] >>> (8 * b)) & 0xff;
              break;
            case 'bytes': {
              const data = op[2].subarray(0, WINDOW - op[1]);
              expect(memory.writeBytes(BASE + op[1], data)).toBe(true);
              model.set(data, op[1]);
              break;
            }
            case 'fill': {
              const length = Math.min(op[2], WINDOW - op[1]);
              expect(memory.fill(BASE + op[1], length, op[3])).toBe(true);
              model.fill(op[3], op[1], op[1] + length);
              break;
            }
            case 'copy': {
              const length = Math.min(op[3], WINDOW - Math.max(op[1], op[2]));
              expect(memory.copy(BASE + op[1], BASE + op[2], length)).toBe(true);
              model.copyWithin(op[1], op[2], op[2] + length);
              break;
            }
          }
        }
        const read = memory.readBytes(BASE, WINDOW)!;
        expect(Buffer.compare(read, model), 'readBytes differs from the model').toBe(0);
        const view = new DataView(model.buffer);
        const words: number[] = [];
        const expectedWords: number[] = [];
        for (let o = 0; o < WINDOW; o += 4) {
          words.push(memory.read32(BASE + o));
          expectedWords.push(view.getUint32(o, true));
        }
        expect(words).toEqual(expectedWords);
        const bytes: number[] = [];
        for (let o = 0; o < WINDOW; o += 7) bytes.push(memory.read8(BASE + o) - model[o]!);
        expect(bytes.every((d) => d === 0)).toBe(true);
        expect(memory.stats().framesAllocated).toBeLessThanOrEqual(3);
      }),
      { seed: SEED, numRuns: 150 },
    );
  });
});

describe('TLB: random fills and invalidations agree with a reference model', () => {
  it('occupancy never exceeds the size, and every TLBI removes exactly what it names', () => {
    interface Entry {
      vpn: number;
      regime: number;
      asid: number;
      pagePa: number;
      sizeShift: number;
    }
    const SIZE = 8;
    const vpnArb = fc.integer({ min: -40, max: 1100 });
    const tlbOp = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record({
          kind: fc.constant('fill' as const),
          vpn: vpnArb,
          regime: fc.constantFrom(0, 2, 5),
          asid: fc.constantFrom(GLOBAL_ASID, 1, 2),
          pagePa: fc.nat({ max: 64 }).map((n) => 0x6000_0000 + n * 4096),
          sizeShift: fc.constantFrom(12, 12, 21),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant('all' as const),
          regime: fc.option(fc.constantFrom(0, 2, 5), { nil: undefined }),
        }),
      },
      {
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constant('va' as const),
          vpn: vpnArb,
          regime: fc.constantFrom(0, 2, 5),
          asid: fc.option(fc.constantFrom(1, 2), { nil: undefined }),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant('asid' as const),
          asid: fc.constantFrom(1, 2),
          regime: fc.constantFrom(0, 2, 5),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant('pa' as const),
          first: fc.nat({ max: 64 }),
          pages: fc.integer({ min: 1, max: 16 }),
        }),
      },
    );
    fc.assert(
      fc.property(fc.array(tlbOp, { maxLength: 60 }), (ops) => {
        const tlb = new Tlb({ entries: SIZE });
        const model: (Entry | undefined)[] = Array(SIZE).fill(undefined);
        const slot = (vpn: number): number => tlb.indexOf(vpn);
        for (const op of ops) {
          switch (op.kind) {
            case 'fill':
              tlb.fill(op.vpn, op.regime, op.asid, 0, 1, op.pagePa, 1, 0x3f, op.sizeShift);
              model[slot(op.vpn)] = {
                vpn: op.vpn,
                regime: op.regime,
                asid: op.asid,
                pagePa: op.pagePa,
                sizeShift: op.sizeShift,
              };
              break;
            case 'all':
              tlb.invalidateAll(op.regime);
              model.forEach((e, i) => {
                if (e !== undefined && (op.regime === undefined || e.regime === op.regime))
                  model[i] = undefined;
              });
              break;
            case 'va':
              tlb.invalidateVa(op.vpn * 4096 + 5, op.regime, op.asid);
              model.forEach((e, i) => {
                if (e === undefined || e.regime !== op.regime) return;
                if (op.asid !== undefined && e.asid !== op.asid && e.asid !== GLOBAL_ASID) return;
                const span = 2 ** (e.sizeShift - 12);
                if (Math.floor(e.vpn / span) === Math.floor(op.vpn / span)) model[i] = undefined;
              });
              break;
            case 'asid':
              tlb.invalidateAsid(op.asid, op.regime);
              model.forEach((e, i) => {
                if (e !== undefined && e.asid === op.asid && e.regime === op.regime) model[i] = undefined;
              });
              break;
            case 'pa': {
              const base = 0x6000_0000 + op.first * 4096;
              tlb.invalidatePaRange(base, op.pages * 4096);
              model.forEach((e, i) => {
                if (e !== undefined && e.pagePa >= base && e.pagePa < base + op.pages * 4096)
                  model[i] = undefined;
              });
              break;
            }
          }
          expect(tlb.occupancy()).toBe(model.filter((e) => e !== undefined).length);
          expect(tlb.occupancy()).toBeLessThanOrEqual(tlb.size);
        }
        model.forEach((e, i) => {
          if (e === undefined) expect(Number.isNaN(tlb.vpn[i])).toBe(true);
          else
            expect([tlb.vpn[i], tlb.regime[i], tlb.asid[i], tlb.pagePa[i]]).toEqual([
              e.vpn,
              e.regime,
              e.asid,
              e.pagePa,
            ]);
        });
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});

describe('fault routing and syndromes (spec §3.6, §7.5)', () => {
  it('every routed fault has the target EL, class and status code the spec tables give', () => {
    const faultArb = fc.record({
      el: fc.constantFrom(0, 1, 3),
      access: fc.constantFrom(Access.Read, Access.Write, Access.Fetch),
      fault: fc.constantFrom(
        MmuFault.Translation,
        MmuFault.AddressSize,
        MmuFault.AccessFlag,
        MmuFault.Permission,
        MmuFault.ExternalAbortOnWalk,
        MmuFault.Gpc,
      ),
      level: fc.nat({ max: 3 }),
      gpcKind: fc.constantFrom(GpcFault.GPF, GpcFault.GPTWalk, GpcFault.GPTAddressSize, GpcFault.GPTEABT),
      gptLevel: fc.constantFrom(0 as const, 1 as const),
      s1ptw: fc.boolean(),
      scrGpf: fc.boolean(),
      pa: fc.nat({ max: 2 ** 40 }),
      pas: fc.constantFrom(Pas.Secure, Pas.NonSecure, Pas.Root, Pas.Realm),
    });
    fc.assert(
      fc.property(faultArb, (f) => {
        const out: RoutedFault = { targetEl: 1, esr: 0, gpcException: false, mfarLow: 0, mfarHigh: 0 };
        const gpc = f.fault === MmuFault.Gpc ? gpcFault(f.gpcKind, f.gptLevel) : 0;
        const s1ptw = f.fault === MmuFault.Gpc ? f.s1ptw : false;
        routeAccessFault(f.el, f.access, f.fault, f.level, gpc, s1ptw, f.pa, f.pas, f.scrGpf, out);
        const esr = esrFields(out.esr);
        expect(esr.il).toBe(1);
        expect(esrClass(out.esr)).toBe(esr.ec);
        const toGpcException =
          f.fault === MmuFault.Gpc && (f.gpcKind !== GpcFault.GPF || (f.el < 3 && f.scrGpf));
        const expectedFsc = {
          [MmuFault.AddressSize]: 0b000000 | f.level,
          [MmuFault.Translation]: 0b000100 | f.level,
          [MmuFault.AccessFlag]: 0b001000 | f.level,
          [MmuFault.Permission]: 0b001100 | f.level,
          [MmuFault.ExternalAbortOnWalk]: 0b010100 | f.level,
          [MmuFault.Gpc]: s1ptw ? 0b100100 | f.level : 0b101000,
        }[f.fault];
        expect(esr.fsc).toBe(expectedFsc);
        expect(esr.s1ptw).toBe(s1ptw);
        if (toGpcException) {
          expect(out.targetEl).toBe(3);
          expect(out.gpcException).toBe(true);
          expect(esr.ec).toBe(Ec.GranuleProtection);
          const gpcsc = {
            [GpcFault.GPTAddressSize]: 0b0000,
            [GpcFault.GPTWalk]: 0b0001,
            [GpcFault.GPF]: 0b0011,
            [GpcFault.GPTEABT]: 0b0101,
          }[f.gpcKind];
          expect(esr.gpcsc).toBe((gpcsc << 2) | f.gptLevel);
          expect(esr.ind).toBe(f.access === Access.Fetch);
          // MFAR_EL3: FPA [51:12], NS [63], NSE [62].
          const nsBits = { [Pas.Secure]: 0n, [Pas.NonSecure]: 2n, [Pas.Root]: 1n, [Pas.Realm]: 3n }[f.pas];
          expect(halvesToBig(out.mfarLow, out.mfarHigh)).toBe(
            (nsBits << 62n) | BigInt(Math.floor(f.pa / 4096) * 4096),
          );
        } else {
          expect(out.gpcException).toBe(false);
          expect(out.targetEl).toBe(f.el === 3 ? 3 : 1);
          const same = f.el === out.targetEl;
          const expectedEc =
            f.access === Access.Fetch
              ? same
                ? Ec.InstructionAbortSame
                : Ec.InstructionAbortLower
              : same
                ? Ec.DataAbortSame
                : Ec.DataAbortLower;
          expect(esr.ec).toBe(expectedEc);
          expect(esr.wnr).toBe(f.access === Access.Write && !s1ptw);
        }
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});

describe('bits.ts conversions', () => {
  it('split64/join64, halves/BigInt and field64 agree with BigInt arithmetic', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.nat({ max: 52 }),
        fc.nat({ max: 31 }),
        (value, lo, width) => {
          const [l, h] = bigToHalves(value);
          expect(halvesToBig(l, h)).toBe(value);
          const hi = Math.min(lo + width, 52);
          expect(field64(l, h, hi, lo)).toBe(
            Number((value >> BigInt(lo)) & ((1n << BigInt(hi - lo + 1)) - 1n)),
          );
          const small = Number(value & ((1n << 53n) - 1n));
          expect(join64(...split64(small))).toBe(small);
        },
      ),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('vaFromU64/vaToU64 round-trip every canonical 48-bit VA, and map non-representable ones outside both ranges', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.bigInt({ min: 0n, max: (1n << 48n) - 1n }),
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        (upper, low, any) => {
          const canonical = upper ? (0xffffn << 48n) | low : low;
          const va = vaFromU64(canonical);
          expect(vaToU64(va)).toBe(canonical);
          expect(upper ? va < 0 && va >= -(2 ** 48) : va >= 0 && va < 2 ** 48).toBe(true);
          const v = vaFromU64(any);
          if (v >= -(2 ** 48) && v < 2 ** 48) expect(vaToU64(v)).toBe(any);
        },
      ),
      { seed: SEED, numRuns: 500 },
    );
  });
});
