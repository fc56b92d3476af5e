/**
 * Appraisal of a container's attestation evidence by its owner (attacks.md Q2, DESIGN.md §5
 * "launch integrity"), in the roles of RFC 9334 (RATS): rc_attest's evidence is
 *
 *   report (signed by the mini-OS key) ‖ mini-OS public key (32) ‖ platform token (64)
 *
 * and the verifier trusts only the platform's public key (the trust anchor) and its own reference
 * values. It checks, in order:
 *  1. the report: canonical, signed by the mini-OS key that came with it, for the verifier's nonce
 *     (not replayed), and its chain value is the chain of its own measurement log;
 *  2. the platform token: the platform key endorses that mini-OS key for the boot chain the
 *     report's log gives (firmware/attestation.ts: chainᵢ = SHA-256(chainᵢ₋₁ ‖ digestᵢ)), so a key
 *     the kernel or the host made up cannot sign a report that passes;
 *  3. the boot measurements against the reference build (firmware, mini-OS, kernel);
 *  4. the container's image (its measured binary list), config and exec policy against what the
 *     owner expects.
 * Checks 1–2 are structural: when one fails, the report's content is not looked at.
 */
import { sha256 as firmwareSha256, verifyPlatformToken } from '../../firmware/attestation.js';
import { ATTEST_TRAILER_BYTES } from '../../minios/abi.js';
import { rcontainerBootImages } from '../../minios/platform.js';
import { execPolicyName } from '../bundle/spec.js';
import {
  verifyReport,
  type AttestationReport,
  type Measurement,
  type ReportError,
} from '../../minios/crypto/attestation.js';

/** What the owner expects; an absent field is not checked (and says so). */
export interface ReferenceValues {
  /** The platform attestation public key (Ed25519, 32 bytes): the trust anchor. */
  readonly platformPublicKey: Uint8Array;
  /** The boot measurements of the reference build, in order. */
  readonly boot?: readonly Measurement[];
  /** SHA-256 of the container's measured binary list. */
  readonly imageDigest?: Uint8Array;
  /** SHA-256 of the container's config (the image configuration blob). */
  readonly configDigest?: Uint8Array;
  /** The exec policy code the container was created with. */
  readonly execPolicy?: number;
}

/** Names of the appraisal's checks, in the order they run. */
export type CheckName =
  'report' | 'platform token' | 'boot measurements' | 'image' | 'config' | 'exec policy';

/** One check's outcome; `detail` is one line for a person. */
export interface Check {
  readonly name: CheckName;
  readonly outcome: 'pass' | 'fail' | 'skipped';
  readonly detail: string;
}

/** The appraisal: `ok` when no check failed and the structural ones passed. */
export interface Appraisal {
  readonly ok: boolean;
  readonly checks: readonly Check[];
  /** The report, when it verified (checks 1 and 2 passed). */
  readonly report?: AttestationReport;
}

const SIGNATURE_BYTES = 64;
const PUBLIC_KEY_BYTES = 32;

/** Appraise `evidence` (rc_attest's bytes) for `nonce` against `reference`. */
export function appraiseEvidence(
  evidence: Uint8Array,
  nonce: Uint8Array,
  reference: ReferenceValues,
): Appraisal {
  if (evidence.length <= ATTEST_TRAILER_BYTES) {
    return failed({
      name: 'report',
      outcome: 'fail',
      detail: `evidence of ${evidence.length} bytes is too short`,
    });
  }
  const reportBytes = evidence.subarray(0, evidence.length - ATTEST_TRAILER_BYTES);
  const miniosKey = evidence.subarray(
    evidence.length - ATTEST_TRAILER_BYTES,
    evidence.length - SIGNATURE_BYTES,
  );
  const token = evidence.subarray(evidence.length - SIGNATURE_BYTES);
  // The log is trusted only once the key that signed it is endorsed for the chain it gives.
  const verified = verifyReport(reportBytes, miniosKey, nonce);
  if (!verified.ok)
    return failed({ name: 'report', outcome: 'fail', detail: reportErrorText(verified.error) });
  const report = verified.report;
  if (reference.platformPublicKey.length !== PUBLIC_KEY_BYTES) {
    return failed({ name: 'platform token', outcome: 'fail', detail: 'the platform key is not 32 bytes' });
  }
  if (!verifyPlatformToken(reference.platformPublicKey, bootChainOf(report.measurements), miniosKey, token)) {
    return failed({
      name: 'platform token',
      outcome: 'fail',
      detail: `the platform key ${short(reference.platformPublicKey)} does not endorse mini-OS key ${short(miniosKey)} for this boot chain`,
    });
  }
  const checks: Check[] = [
    {
      name: 'report',
      outcome: 'pass',
      detail: 'signed by that mini-OS key, for this nonce, chain value recomputed from its log',
    },
    {
      name: 'platform token',
      outcome: 'pass',
      detail: `the platform key ${short(reference.platformPublicKey)} endorses mini-OS key ${short(miniosKey)} for boot chain ${short(bootChainOf(report.measurements))}`,
    },
    bootCheck(report.measurements, reference.boot),
    digestCheck('image', report.imageDigest, reference.imageDigest, 'measured binary list'),
    digestCheck('config', report.configDigest, reference.configDigest, 'config'),
    policyCheck(report.execPolicy, reference.execPolicy),
  ];
  return { ok: checks.every((c) => c.outcome !== 'fail'), checks, report };
}

/** The firmware's boot chain over a measurement log (what the platform token signs). */
export function bootChainOf(measurements: readonly Measurement[]): Uint8Array {
  let chain: Uint8Array = new Uint8Array(32);
  for (const m of measurements) chain = firmwareSha256(chain, m.sha256);
  return chain;
}

/** The boot measurements of this build's rcontainer platform: the verifier's reference values. */
export function referenceBootMeasurements(): Measurement[] {
  const images = rcontainerBootImages();
  return [images.firmware, images.minios, images.kernel].map((image) => ({
    component: image.name,
    sha256: firmwareSha256(image.bytes),
  }));
}

function failed(check: Check): Appraisal {
  return { ok: false, checks: [check] };
}

function bootCheck(actual: readonly Measurement[], expected: readonly Measurement[] | undefined): Check {
  const names = actual.map((m) => m.component).join(', ');
  if (expected === undefined)
    return { name: 'boot measurements', outcome: 'skipped', detail: `no reference for ${names}` };
  if (actual.length !== expected.length) {
    return {
      name: 'boot measurements',
      outcome: 'fail',
      detail: `${actual.length} measurements (${names}), the reference has ${expected.length}`,
    };
  }
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (a.component !== e.component || hex(a.sha256) !== hex(e.sha256)) {
      return {
        name: 'boot measurements',
        outcome: 'fail',
        detail: `measurement ${i + 1} is ${a.component} ${short(a.sha256)}, the reference is ${e.component} ${short(e.sha256)}`,
      };
    }
  }
  return { name: 'boot measurements', outcome: 'pass', detail: `${names} match the reference build` };
}

function digestCheck(
  name: 'image' | 'config',
  actual: Uint8Array,
  expected: Uint8Array | undefined,
  what: string,
): Check {
  const got = `sha256:${hex(actual)}`;
  if (expected === undefined) return { name, outcome: 'skipped', detail: `${what} ${got}, no reference` };
  if (hex(actual) !== hex(expected)) {
    return { name, outcome: 'fail', detail: `${what} ${got}, expected sha256:${hex(expected)}` };
  }
  return { name, outcome: 'pass', detail: `${what} ${got}` };
}

function policyCheck(actual: number, expected: number | undefined): Check {
  const name = (code: number): string => execPolicyName(code) ?? `unknown (${code})`;
  if (expected === undefined)
    return { name: 'exec policy', outcome: 'skipped', detail: `${name(actual)}, no reference` };
  if (actual !== expected) {
    return { name: 'exec policy', outcome: 'fail', detail: `${name(actual)}, expected ${name(expected)}` };
  }
  return { name: 'exec policy', outcome: 'pass', detail: name(actual) };
}

function reportErrorText(error: ReportError): string {
  switch (error.kind) {
    case 'Malformed':
      return `not a canonical report (${error.reason})`;
    case 'BadPublicKey':
      return 'the mini-OS key is not 32 bytes';
    case 'BadSignature':
      return 'the signature does not verify under the mini-OS key: forged or modified';
    case 'WrongNonce':
      return 'genuine but for another nonce: replayed';
    case 'ChainMismatch':
      return 'its chain value is not the chain of its measurement log';
  }
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** The first 8 bytes in hex, for one-line details. */
function short(bytes: Uint8Array): string {
  return `${hex(bytes.subarray(0, 8))}…`;
}
