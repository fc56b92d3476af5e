/**
 * The mini-OS's only public face (DESIGN.md §2): call numbers, register conventions, argument
 * layouts, owner kinds and error codes of the 16 RContainer calls (spec/rcontainer.md). The
 * kernel imports nothing else from src/minios.
 *
 * Calling convention (a gate through EL3, DESIGN.md §4 "rc_* call"): the kernel, at EL1, executes
 * `SMC #0` with x0 = RC_ENTER_MINIOS (the firmware's SiP function id), x1 = the call number and
 * x2..x7 = the arguments. EL3 switches to the Priv-GPT and enters the mini-OS at its fixed entry;
 * the mini-OS validates, acts and returns through EL3 to the instruction after the SMC with the
 * result in x0: 0 or a non-negative value on success, a negative errno on refusal.
 */

/** SMCCC function id of the gate into the mini-OS (firmware RC service, SiP range). */
export const RC_ENTER_MINIOS = 0xc200_0101;

/** The 16 calls. */
export const RcCall = {
  CreateShim: 1,
  DestroyShim: 2,
  CreateContainer: 3,
  DestroyContainer: 4,
  MallocMm: 5,
  SetPte: 6,
  CopyPage: 7,
  SetVma: 8,
  SetIopte: 9,
  IpcIn: 10,
  IpcOut: 11,
  TaskClone: 12,
  TaskExec: 13,
  TaskExit: 14,
  SwitchToDepriv: 15,
  SwitchToMiniOs: 16,
} as const;
/** A call number. */
export type RcCall = (typeof RcCall)[keyof typeof RcCall];

/** Names of the calls as the paper spells them, indexed by number. */
export const RC_CALL_NAMES: Readonly<Record<number, string>> = {
  1: 'rc_create_shim',
  2: 'rc_destroy_shim',
  3: 'rc_create_container',
  4: 'rc_destroy_container',
  5: 'rc_malloc_mm',
  6: 'rc_set_pte',
  7: 'rc_copy_page',
  8: 'rc_set_vma',
  9: 'rc_set_iopte',
  10: 'rc_ipc_in',
  11: 'rc_ipc_out',
  12: 'rc_task_clone',
  13: 'rc_task_exec',
  14: 'rc_task_exit',
  15: 'rc_switch_to_depriv',
  16: 'rc_switch_to_miniOS',
};

/** Error results (Linux errno values, negated). */
export const RcError = {
  EPERM: -1,
  ENOENT: -2,
  ENOMEM: -12,
  EBUSY: -16,
  EINVAL: -22,
} as const;
/** An error result. */
export type RcError = (typeof RcError)[keyof typeof RcError];

/** Name of a result for logs and tests. */
export function rcResultName(result: number): string {
  for (const [name, value] of Object.entries(RcError)) if (value === result) return name;
  return result >= 0 ? `ok(${result})` : `error(${result})`;
}

/** Who owns a granule (the mini-OS's ownership table is the single source of truth). */
export const Owner = {
  /** The untrusted OS: kernel and host processes. */
  Os: 0,
  /** The mini-OS: its code and data, the GPT views, its page-table aliases. */
  Mini: 1,
  /** EL3 firmware (GPI Root). */
  Root: 2,
  /** User memory of container c. */
  Ctr: 3,
  /** The con-shim of container c. */
  Shim: 4,
  /** Page-table pages of container c. */
  Pt: 5,
  /** Page-table pages of the kernel (mapped read-only to it). */
  PtOs: 6,
  /** Memory shared by containers with both sides' consent. */
  Shared: 7,
} as const;
/** An owner kind. */
export type Owner = (typeof Owner)[keyof typeof Owner];

/** Names of owner kinds, indexed by value. */
export const OWNER_NAMES = ['OS', 'MINI', 'ROOT', 'CTR', 'SHIM', 'PT', 'PT(os)', 'SHARED'] as const;

/** rc_malloc_mm `kind` argument: which pool of the container receives the granules. */
export const MallocKind = { Ctr: Owner.Ctr, Shim: Owner.Shim, Pt: Owner.Pt } as const;

/** Exec policies (rc_create_container `policy`), DESIGN.md §5. */
export const ExecPolicy = { MeasuredOnly: 0, Allow: 1, Deny: 2 } as const;
/** An exec policy. */
export type ExecPolicy = (typeof ExecPolicy)[keyof typeof ExecPolicy];

/** rc_set_pte `space`: the kernel's own tables, or a container's task address space. */
export const PteSpace = { Kernel: 0 } as const;

/** Largest container id (ids are 1..MAX_CONTAINER_ID; 0 means "the OS"). */
export const MAX_CONTAINER_ID = 0xffff;
