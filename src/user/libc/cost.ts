/**
 * Cycles of user-level computation the libc and the programs declare (DESIGN.md §6: user compute
 * is declared by programs). Rough figures for an out-of-order Arm core; they give simulated time a
 * meaning, they are not calibrated per instruction.
 */
export const Cost = {
  /** Touching a byte of data (copying, scanning, checksumming). */
  perByte: 5,
  /** A memcpy-like bulk copy, per byte (vectorised). */
  perCopiedByte: 1,
  /** Parsing or formatting one line of text. */
  perLine: 200,
  /** Parsing and dispatching one protocol request (RESP command, HTTP request). */
  perRequest: 500,
  /** One malloc or free. */
  perAlloc: 60,
  /** A libc call wrapper around a system call (argument set-up, errno handling). */
  perCall: 20,
  /** Parsing one shell command line. */
  perCommand: 400,
} as const;
