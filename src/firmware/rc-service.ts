/**
 * The RContainer GPT-switch service: the whole EL3 part of RContainer (DESIGN.md §1 "Gates").
 * SiP fast SMC64 calls:
 *
 *   RC_VERSION       → X0 = 0x0001_0000.
 *   RC_ENTER_MINIOS  from any GPT view: X8 = caller's ELR_EL3, X9 = SPSR_EL3, X10 = its GPT base;
 *                    X0-X7 pass through; GPTBR_EL3 = Priv-GPT; return to the mini-OS's fixed entry
 *                    at EL1h with DAIF masked, whatever the caller asked.
 *   RC_LEAVE_MINIOS  (X1 = L0 base of the target view, X2 = return PC, X3 = SPSR, X4 = the target's
 *                    X0) only from the Priv-GPT: switch GPTBR_EL3 and return there.
 *   RC_TLBI          (X1 = 0 all / 1 range, X2 = base, X3 = size) only from the Priv-GPT: TLBI
 *                    PAALLOS, or TLBI RPALOS over the range with the largest aligned sizes.
 *   RC_SET_DMA_GPT   (X1 = L0 base of a view) only from the Priv-GPT: point SMMU_ROOT_GPT_BASE at it.
 *
 * The only caller check is "is the Priv-GPT active": the mini-OS is the only code that runs under it.
 * A GPTBR_EL3 switch issues TLBI PAALL, except with the gptTaggedTlb extension, whose TLB entries
 * carry the GPT they were filled under. Refusals: DENIED (not in the Priv-GPT), INVALID_PARAMETER
 * (a view base that is misaligned or not DRAM outside the Root region, an SPSR that is not EL0t or
 * EL1h, a misaligned or overflowing range).
 */
import type { ProcessingElement } from '../hw/pe.js';
import { SmmuBits, SmmuReg } from '../hw/smmu.js';
import { rpaOperand, RPA_SIZE_SHIFTS } from './gpt.js';
import type { AddressRange } from './layout.js';
import { argU64, SmcReturn, type SmcDispatcher } from './smccc.js';

/** Function identifiers (SiP, fast, SMC64). */
export const RC_VERSION = 0xc200_0100;
export const RC_ENTER_MINIOS = 0xc200_0101;
export const RC_LEAVE_MINIOS = 0xc200_0102;
export const RC_TLBI = 0xc200_0103;
export const RC_SET_DMA_GPT = 0xc200_0104;
/** RC_VERSION result: 1.0. */
export const RC_SERVICE_VERSION = 0x0001_0000;
/** SPSR of every mini-OS entry: EL1h (M = 0b0101) with D, A, I, F masked. */
export const MINIOS_ENTRY_SPSR = 0x3c5;
/** SMMU_ROOT_TLBI_CTRL: RUN | ALL. */
const SMMU_TLBI_ALL = SmmuBits.ROOT_TLBI_CTRL_RUN | SmmuBits.ROOT_TLBI_CTRL_ALL;
/** RC_TLBI X1 values. */
export const RcTlbi = { All: 0, Range: 1 } as const;

/** What the service needs to know about the platform. */
export interface RcServiceConfig {
  /** L0 table PA of the Priv-GPT. */
  readonly privGptBase: number;
  /** The mini-OS's fixed entry VA. */
  readonly miniosEntryVa: number;
  /** The machine has the GPT-tagged TLB extension: no TLBI PAALL on a switch. */
  readonly gptTaggedTlb: boolean;
  /** Bytes of an L0 table (views are aligned to max(4 KiB, this)). */
  readonly l0TableBytes: number;
  /** The GPC granule size (PGS). */
  readonly granuleBytes: number;
  readonly root: AddressRange;
  readonly dramBanks: readonly AddressRange[];
  /** Base of the SMMU register window. */
  readonly smmuBase: number;
}

/** Register the service's calls on `smc`. */
export function installRcService(smc: SmcDispatcher, config: RcServiceConfig): void {
  const { privGptBase, l0TableBytes: l0Bytes, root, granuleBytes: granule } = config;
  // GPTBR_EL3.BADDR [39:0] = PA[51:12] of the L0 table.
  const gptBase = (pe: ProcessingElement): number => (pe.regs.number('GPTBR_EL3') % 2 ** 40) * 4096;
  const privActive = (pe: ProcessingElement): boolean => gptBase(pe) === privGptBase;
  const switchGpt = (pe: ProcessingElement, base: number): void => {
    pe.msrNumber('GPTBR_EL3', base / 4096);
    if (!config.gptTaggedTlb) pe.tlbi('PAALL');
  };
  const isView = (base: number | undefined): base is number =>
    base !== undefined &&
    base % Math.max(4096, l0Bytes) === 0 &&
    config.dramBanks.some((bank) => base >= bank.base && base + l0Bytes <= bank.base + bank.size) &&
    (base + l0Bytes <= root.base || base >= root.base + root.size);

  smc.register(RC_VERSION, 'RC_VERSION', (pe) => {
    pe.x[0] = RC_SERVICE_VERSION;
  });

  smc.register(RC_ENTER_MINIOS, 'RC_ENTER_MINIOS', (pe) => {
    pe.x[8] = pe.regs.number('ELR_EL3');
    pe.x[9] = pe.regs.low('SPSR_EL3');
    pe.x[10] = gptBase(pe);
    switchGpt(pe, privGptBase);
    pe.msrNumber('ELR_EL3', config.miniosEntryVa);
    pe.msr('SPSR_EL3', MINIOS_ENTRY_SPSR);
  });

  smc.register(RC_LEAVE_MINIOS, 'RC_LEAVE_MINIOS', (pe) => {
    if (!privActive(pe)) {
      pe.x[0] = SmcReturn.DENIED;
      return;
    }
    const view = argU64(pe, 1);
    const returnPc = pe.x[2]!;
    const spsr = argU64(pe, 3);
    // SPSR.M[4:0]: AArch64 EL0t (0b00000) or EL1h (0b00101) only.
    const modeOk = spsr !== undefined && spsr < 2 ** 32 && [0b00000, 0b00101].includes(spsr & 0x1f);
    if (!isView(view) || !modeOk || !Number.isSafeInteger(returnPc)) {
      pe.x[0] = SmcReturn.INVALID_PARAMETER;
      return;
    }
    switchGpt(pe, view);
    pe.msrNumber('ELR_EL3', returnPc);
    pe.msr('SPSR_EL3', spsr);
    pe.x[0] = pe.x[4]!;
  });

  smc.register(RC_TLBI, 'RC_TLBI', (pe) => {
    if (!privActive(pe)) {
      pe.x[0] = SmcReturn.DENIED;
      return;
    }
    const [kind, base, size] = [pe.x[1], argU64(pe, 2), argU64(pe, 3)];
    if (kind === RcTlbi.All) {
      pe.tlbi('PAALLOS');
      pe.x[0] = SmcReturn.SUCCESS;
      return;
    }
    const valid = kind === RcTlbi.Range && base !== undefined && size !== undefined;
    if (!valid || size === 0 || base % granule !== 0 || size % granule !== 0 || base + size > 2 ** 52) {
      pe.x[0] = SmcReturn.INVALID_PARAMETER;
      return;
    }
    // Cover [base, base + size) with the largest RPA* sizes (not below the granule) that are
    // aligned at the current address and fit in the rest of the range.
    const end = base + size;
    const fits = (at: number, b: number): boolean =>
      2 ** b >= granule && at % 2 ** b === 0 && at + 2 ** b <= end;
    for (let at = base, shift = 0; at < end; at += 2 ** shift) {
      shift = RPA_SIZE_SHIFTS.filter((b) => fits(at, b)).at(-1)!;
      pe.tlbi('RPALOS', rpaOperand(at, shift));
    }
    pe.x[0] = SmcReturn.SUCCESS;
  });

  smc.register(RC_SET_DMA_GPT, 'RC_SET_DMA_GPT', (pe) => {
    const view = argU64(pe, 1);
    if (!privActive(pe) || !isView(view)) {
      pe.x[0] = privActive(pe) ? SmcReturn.INVALID_PARAMETER : SmcReturn.DENIED;
      return;
    }
    // SMMU_ROOT_GPT_BASE = the L0 PA, then SMMU_ROOT_TLBI_CTRL = RUN | ALL (Root page stores).
    pe.store64(config.smmuBase + SmmuReg.ROOT_GPT_BASE, view % 2 ** 32, Math.floor(view / 2 ** 32));
    pe.store32(config.smmuBase + SmmuReg.ROOT_TLBI_CTRL, SMMU_TLBI_ALL);
    pe.x[0] = SmcReturn.SUCCESS;
  });
}
