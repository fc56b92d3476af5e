/**
 * Physical address spaces, security states and GPI encodings of Arm RME.
 *
 * Numbering follows QEMU's ARMSecuritySpace (spec/cca-hardware.md §1.1): Secure = 0,
 * NonSecure = 1, Root = 2, Realm = 3, which equals the low two bits of the matching GPI and,
 * except Root, the concatenation SCR_EL3.{NSE,NS}.
 */

/** A physical address space, also used for a PE's security state. */
export const Pas = { Secure: 0, NonSecure: 1, Root: 2, Realm: 3 } as const;
/** One of the four PAS numbers. */
export type Pas = (typeof Pas)[keyof typeof Pas];

/** Names of the PAS values, indexed by number. */
export const PAS_NAMES = ['Secure', 'NonSecure', 'Root', 'Realm'] as const;
/** A PAS (or security state) name as the conformance vectors spell it. */
export type PasName = (typeof PAS_NAMES)[number];

/** Parse a PAS name; undefined if it is not one. */
export function pasFromName(name: string): Pas | undefined {
  const index = (PAS_NAMES as readonly string[]).indexOf(name);
  return index < 0 ? undefined : (index as Pas);
}

/** GPI values (spec/cca-hardware.md §1.4, TFA gpt_rme.h L50-58). */
export const Gpi = {
  NoAccess: 0x0,
  SystemAgent: 0x4,
  NonSecureProtected: 0x5,
  NoAccess6: 0x6,
  NoAccess7: 0x7,
  Secure: 0x8,
  NonSecure: 0x9,
  Root: 0xa,
  Realm: 0xb,
  NonSecureOnly: 0xd,
  Any: 0xf,
} as const;
/** A named GPI value. */
export type Gpi = (typeof Gpi)[keyof typeof Gpi];

/** Human-readable GPI name for inspection output. */
export function gpiName(gpi: number): string {
  switch (gpi) {
    case Gpi.NoAccess:
      return 'NO_ACCESS';
    case Gpi.SystemAgent:
      return 'SA';
    case Gpi.NonSecureProtected:
      return 'NSP';
    case Gpi.NoAccess6:
      return 'NA6';
    case Gpi.NoAccess7:
      return 'NA7';
    case Gpi.Secure:
      return 'SECURE';
    case Gpi.NonSecure:
      return 'NS';
    case Gpi.Root:
      return 'ROOT';
    case Gpi.Realm:
      return 'REALM';
    case Gpi.NonSecureOnly:
      return 'NSO';
    case Gpi.Any:
      return 'ANY';
    default:
      return `reserved(0x${gpi.toString(16)})`;
  }
}
