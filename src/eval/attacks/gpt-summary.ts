/**
 * A summary of the GPT views of a running rcontainer system, as an inspection tool would take it:
 * the owner of every DRAM granule from the mini-OS's ownership table (read-only), and for each view
 * (Priv-GPT, OS-GPT, shim-GPT(c)) the GPI the view's tables in simulated memory give that granule,
 * found by a GPT walk of a separate GPC unit (hw/gpc.ts lookup) loaded with GPCCR_EL3 and the view's
 * base. Nothing is changed; no PE's state is touched.
 */
import type { RcontainerPlatform } from '../../designs/rcontainer.js';
import { GranuleProtectionCheck } from '../../hw/gpc.js';
import { Gpi } from '../../hw/pas.js';
import { Owner, OWNER_NAMES } from '../../minios/abi.js';

/** Granules of one owner and how many of them each view leaves open (GPI Non-secure or All). */
export interface GptSummaryRow {
  /** Owner as the design names it: OS, MINI, CTR(1), SHIM(1)... */
  readonly owner: string;
  readonly granules: number;
  /** Open granules per view, in the order of GptSummary.views. */
  readonly open: readonly number[];
}

/** The GPT views of a system. */
export interface GptSummary {
  readonly granuleBytes: number;
  /** Priv-GPT, OS-GPT, then shim-GPT(c) for each container with a view. */
  readonly views: readonly string[];
  readonly rows: readonly GptSummaryRow[];
}

/** Owner kinds in the order the summary lists them (container kinds expand per container). */
const ORDER: readonly Owner[] = [
  Owner.Os,
  Owner.PtOs,
  Owner.Trampoline,
  Owner.Mini,
  Owner.Root,
  Owner.Ctr,
  Owner.Shim,
  Owner.Pt,
  Owner.Shared,
];
const PER_CONTAINER = new Set<Owner>([Owner.Ctr, Owner.Shim, Owner.Pt]);

/** Take the summary of `platform`'s views. */
export function gptSummary(platform: RcontainerPlatform): GptSummary {
  const { machine } = platform;
  const { minios, firmware } = platform.trusted;
  const ownership = minios.ownership;
  const cids = minios.views.containerIds().sort((a, b) => a - b);
  const bases = [firmware.privGptBase, minios.views.osL0, ...cids.map((c) => minios.views.viewOf(c)!)];
  const views = ['Priv-GPT', 'OS-GPT', ...cids.map((c) => `shim-GPT(${c})`)];
  const gpccr = machine.pes[0]!.regs.low('GPCCR_EL3');
  const units = bases.map((base) => {
    const unit = new GranuleProtectionCheck(machine.memory, machine.params.paRangeBits);
    const granule = base / 4096; // GPTBR_EL3.BADDR holds PA[51:12] of the L0 table
    unit.configure(gpccr, granule % 2 ** 32, Math.floor(granule / 2 ** 32));
    return unit;
  });
  // Per (kind, container): granules, and open granules per view.
  const tally = new Map<number, number[]>();
  for (let index = 0; index < ownership.granules; index++) {
    const kind = ownership.kindOf(index);
    const key = kind * 65536 + (PER_CONTAINER.has(kind) ? ownership.containerOf(index) : 0);
    let counts = tally.get(key);
    if (counts === undefined) {
      counts = new Array<number>(1 + units.length).fill(0);
      tally.set(key, counts);
    }
    counts[0]!++;
    const pa = ownership.paOf(index);
    units.forEach((unit, v) => {
      const found = unit.lookup(pa);
      if (found.walk === 0 && (found.gpi === Gpi.NonSecure || found.gpi === Gpi.Any)) counts[v + 1]!++;
    });
  }
  const rows: GptSummaryRow[] = [];
  for (const kind of ORDER) {
    const keys = [...tally.keys()].filter((k) => Math.floor(k / 65536) === kind).sort((a, b) => a - b);
    for (const key of keys) {
      const counts = tally.get(key)!;
      const cid = key % 65536;
      const name = OWNER_NAMES[kind];
      rows.push({
        owner: PER_CONTAINER.has(kind) ? `${name}(${cid})` : name,
        granules: counts[0]!,
        open: counts.slice(1),
      });
    }
  }
  return { granuleBytes: ownership.granuleBytes, views, rows };
}
