/**
 * The two containers of the attack scenario, as EL0 programs (installed with SystemOptions.programs):
 *
 * - the victim, a small key-value service holding an API token: in its heap (user memory), in a
 *   pipe it keeps full and a journal page it has not written back (its kernel data: SHIM(c) under
 *   rcontainer), and in two database files it fsyncs and that the page cache then evicts (its disk).
 *   It sleeps while the kernel is attacked, updates one file, sleeps again, then reads both files
 *   back from the disk and reports what it got (never the token itself);
 * - the attacker's container, whose process the compromised kernel serves: it maps a buffer at a
 *   fixed address and later prints whatever readable text it finds there (K4: the kernel tries to
 *   point that buffer at the victim's page).
 *
 * Their bytes live in simulated memory only (DESIGN.md §3): the programs touch them through the PE.
 */
import { MAP, O, PROT } from '../../kernel/uapi/flags.js';
import { open } from '../../user/libc/files.js';
import { writeBytes, writeString } from '../../user/libc/io.js';
import type { Proc } from '../../user/libc/process.js';
import { defineProgram } from '../../user/libc/program.js';
import type { Call } from '../../user/libc/syscall.js';
import { close, fsync, pipe2, pread, pwrite } from '../../user/libc/sys-fs.js';
import { mmap } from '../../user/libc/sys-proc.js';
import { nanosleep } from '../../user/libc/time.js';
import type { ProgramMain } from '../../user/program.js';

const PAGE = 4096;
const encoder = new TextEncoder();

/** Names the programs are installed under. */
export const VICTIM_PROGRAM = 'kv-vault';
export const ATTACKER_PROGRAM = 'attacker';
/** How long the victim sleeps between its phases (the kernel is attacked meanwhile). */
export const PHASE_NS = 100_000_000;
/** Where the attacker's process maps its buffer. */
export const ATTACKER_BUFFER_VA = 0x6660_0000;
/** The victim's record of the balance file: first version, then the update. */
export const BALANCE_V1 = 'balance=100;';
export const BALANCE_V2 = 'balance=0;';
/** Page-cache pages per context in the scenario: small, so that files are read back from disk. */
export const SCENARIO_CACHE_PAGES = 4;
/** Lines the programs print when they reach a phase. */
export const READY = { victim: 'kv-vault: ready', updated: 'kv-vault: updated', attacker: 'attacker: ready' };

/** A page filled with `text` repeated. */
export function pageOf(text: string): Uint8Array {
  const bytes = encoder.encode(text);
  const out = new Uint8Array(PAGE);
  for (let i = 0; i < PAGE; i++) out[i] = bytes[i % bytes.length]!;
  return out;
}

function* say(p: Proc, line: string): Call<void> {
  yield* writeString(p, 1, `${line}\n`);
}

/** Write `pages` distinct pages to a new file: memory pressure that evicts older file pages. */
function* fill(p: Proc, path: string, pages: number): Call<void> {
  const fd = yield* open(p, path, O.RDWR | O.CREAT, 0o644);
  for (let i = 0; i < pages; i++) yield* writeBytes(p, fd, pageOf(`${path}:${i}:`));
  yield* close(fd);
}

/** pread one page of `fd`: the bytes, or -errno. */
function* readPage(p: Proc, fd: number): Call<Uint8Array | number> {
  const buffer = yield* p.heap.malloc(PAGE);
  const n = yield* pread(fd, buffer, PAGE, 0);
  const out = n < 0 ? n : p.cpu.readBytes(buffer, n);
  yield* p.heap.free(buffer);
  return out;
}

function sameBytes(a: Uint8Array | number, b: Uint8Array): boolean {
  return typeof a !== 'number' && a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The victim holding `token` (see the file comment). */
export function victimProgram(token: string): ProgramMain {
  const record = `api-token=${token};`;
  return defineProgram(function* (p) {
    // Memory: the token in the heap.
    const slot = yield* p.heap.malloc(256);
    p.cpu.writeBytes(slot, encoder.encode(record));
    // Disk: two files written back with fsync, then evicted by other file pages.
    const db = yield* open(p, '/vault.db', O.RDWR | O.CREAT, 0o600);
    yield* writeBytes(p, db, pageOf(record));
    yield* fsync(db);
    const balance = yield* open(p, '/balance.db', O.RDWR | O.CREAT, 0o600);
    yield* writeBytes(p, balance, pageOf(BALANCE_V1));
    yield* fsync(balance);
    yield* fill(p, '/cache-a', SCENARIO_CACHE_PAGES);
    // Kernel data: a journal page not yet written back, and a pipe holding the token.
    const journal = yield* open(p, '/journal', O.RDWR | O.CREAT, 0o600);
    yield* writeBytes(p, journal, encoder.encode(`journal: set ${record}\n`));
    const fds = yield* p.heap.malloc(8);
    yield* pipe2(fds, 0);
    const pipeWrite = p.cpu.load32(fds + 4);
    yield* writeBytes(p, pipeWrite, encoder.encode(record));
    yield* say(p, READY.victim);
    yield* nanosleep(p, PHASE_NS);
    // Update the balance (a new version on the disk), then let it be evicted again.
    const update = yield* p.heap.malloc(PAGE);
    p.cpu.writeBytes(update, pageOf(BALANCE_V2));
    yield* pwrite(balance, update, PAGE, 0);
    yield* fsync(balance);
    yield* fill(p, '/cache-b', SCENARIO_CACHE_PAGES);
    yield* say(p, READY.updated);
    yield* nanosleep(p, PHASE_NS);
    // Read both files back from the disk and report what came back.
    const vault = yield* readPage(p, db);
    const vaultState =
      typeof vault === 'number'
        ? `error ${vault}`
        : sameBytes(vault, pageOf(record))
          ? 'intact'
          : 'CORRUPTED';
    yield* say(p, `kv-vault: read /vault.db: ${vaultState}`);
    const now = yield* readPage(p, balance);
    const balanceState =
      typeof now === 'number'
        ? `error ${now}`
        : sameBytes(now, pageOf(BALANCE_V2))
          ? 'current'
          : sameBytes(now, pageOf(BALANCE_V1))
            ? 'STALE'
            : 'CORRUPTED';
    yield* say(p, `kv-vault: read /balance.db: ${balanceState}`);
    return 0;
  });
}

/** Printable runs of at least 8 characters in `bytes` (what the attacker can make out). */
function printableRuns(bytes: Uint8Array): string[] {
  const runs: string[] = [];
  let start = -1;
  for (let i = 0; i <= bytes.length; i++) {
    const b = bytes[i];
    const printable = b !== undefined && b >= 0x20 && b < 0x7f;
    if (printable && start < 0) start = i;
    if (!printable && start >= 0) {
      if (i - start >= 8) runs.push(new TextDecoder().decode(bytes.subarray(start, i)));
      start = -1;
    }
  }
  return runs;
}

/** The attacker's process (see the file comment). */
export function attackerProgram(): ProgramMain {
  return defineProgram(function* (p) {
    const flags = MAP.PRIVATE | MAP.ANONYMOUS | MAP.FIXED;
    const buffer = yield* mmap(ATTACKER_BUFFER_VA, PAGE, PROT.READ | PROT.WRITE, flags, -1, 0);
    if (buffer !== ATTACKER_BUFFER_VA) return 1;
    p.cpu.store32(buffer, 0); // fault the page in: the kernel now maps one of this container's frames
    yield* say(p, READY.attacker);
    // Wake up after the kernel's first round of attacks.
    yield* nanosleep(p, PHASE_NS + PHASE_NS / 2);
    const seen = printableRuns(p.cpu.readBytes(buffer, PAGE));
    const text = seen.length === 0 ? 'nothing' : seen.join(' ').slice(0, 120);
    yield* say(p, `attacker: my buffer holds: ${text}`);
    return 0;
  });
}
