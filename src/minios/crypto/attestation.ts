/**
 * The container attestation report (DESIGN.md §4 "Container create", §5 "launch integrity";
 * attacks.md Q2): what the platform vouches for about a container — the measured boot chain, the
 * container's image and config digests and exec policy — bound to a verifier's nonce and signed
 * with Ed25519 by the firmware, which holds the private key (the caller passes a `sign` function).
 *
 * ## Encoding, format 1 (canonical: one byte string per report; integers little-endian)
 *
 * | offset | bytes | field |
 * |---|---|---|
 * | 0 | 4 | magic "RCAR" |
 * | 4 | 2 | format = 1 |
 * | 6 | 1 | exec policy: 0 measuredOnly, 1 allow, 2 deny (the abi.ts `ExecPolicy` codes) |
 * | 7 | 1 | nonce length k, 1..64 |
 * | 8 | 4 | container id |
 * | 12 | 2 | number of boot measurements n, 0..64 |
 * | 14 | 2 | reserved, 0 |
 * | 16 | 32 | measurement chain value |
 * | 48 | 32 | image digest (SHA-256) |
 * | 80 | 32 | config digest (SHA-256) |
 * | 112 | k | caller nonce |
 * | 112 + k | n × (1 + m + 32) | boot measurements in log order: name length m (1..64), name (m bytes of printable ASCII 0x21..0x7e), SHA-256 |
 * | end | 64 | Ed25519 signature over {@link REPORT_SIGNING_DOMAIN} ‖ all preceding bytes |
 *
 * Every field has one encoding (fixed widths, lengths bounded, reserved bytes zero, names ASCII so
 * there is no Unicode normalisation question, no trailing bytes), so `decode(encode(r)) = r` and
 * `encode(decode(b)) = b` for every accepted `b`, and a signature covers exactly one report. The
 * signing domain string keeps a signature over a report from being valid for any other message the
 * firmware key signs.
 *
 * Measurement chain: chain₀ = 32 zero bytes, chainᵢ₊₁ = SHA-256(chainᵢ ‖ u8 m ‖ name ‖ sha256) over
 * the boot measurements in order ({@link extendMeasurementChain}); a verifier recomputes it from the
 * log in the report ({@link verifyReport} does unless told not to).
 */
import {
  asciiBytes,
  bytesEqual,
  concatBytes,
  matchesAt,
  readU16,
  readU32,
  writeU16,
  writeU32,
} from './bytes.js';
import {
  ED25519_PUBLIC_KEY_BYTES,
  ED25519_SIGNATURE_BYTES,
  ed25519Verify,
  SHA256_BYTES,
  sha256,
} from './primitives.js';

/** Exec policy codes of the report (equal to abi.ts `ExecPolicy`, checked by a test). */
export const ReportExecPolicy = { MeasuredOnly: 0, Allow: 1, Deny: 2 } as const;
/** An exec policy code. */
export type ReportExecPolicy = (typeof ReportExecPolicy)[keyof typeof ReportExecPolicy];

/** ASCII string prefixed to the report bytes before signing (ends with a 0x00 byte). */
export const REPORT_SIGNING_DOMAIN = 'rcontainer attestation report v1\0';
/** Longest caller nonce. */
export const REPORT_MAX_NONCE_BYTES = 64;
/** Most boot measurements in one report. */
export const REPORT_MAX_MEASUREMENTS = 64;
/** Longest component name. */
export const REPORT_MAX_NAME_BYTES = 64;
/** Bytes of the fixed part of the report before the nonce. */
export const REPORT_FIXED_BYTES = 112;

const MAGIC = asciiBytes('RCAR');
const FORMAT = 1;
const DOMAIN = asciiBytes(REPORT_SIGNING_DOMAIN);
const Off = {
  magic: 0,
  format: 4,
  policy: 6,
  nonceLength: 7,
  containerId: 8,
  count: 12,
  reserved: 14,
  chain: 16,
  imageDigest: 48,
  configDigest: 80,
  nonce: 112,
} as const;

/** One boot measurement: a component and the SHA-256 of what was loaded. */
export interface Measurement {
  /** Component name, 1..64 printable ASCII characters without spaces (e.g. "bl31", "minios"). */
  component: string;
  /** SHA-256 of the component (32 bytes). */
  sha256: Uint8Array;
}

/** The content of a report (everything but the signature). */
export interface AttestationReport {
  /** Container id (u32). */
  containerId: number;
  /** Exec policy bound at rc_create_container. */
  execPolicy: ReportExecPolicy;
  /** SHA-256 of the container image (its measured binary list). */
  imageDigest: Uint8Array;
  /** SHA-256 of the container config. */
  configDigest: Uint8Array;
  /** The measurement chain value over `measurements`. */
  measurementChain: Uint8Array;
  /** The boot measurement log, in order. */
  measurements: readonly Measurement[];
  /** The verifier's nonce (1..64 bytes), proving the report is fresh. */
  nonce: Uint8Array;
}

/** Why a report was not accepted. */
export type ReportError =
  /** The bytes are not a canonical format-1 report. */
  | { kind: 'Malformed'; reason: string }
  /** The public key is not 32 bytes. */
  | { kind: 'BadPublicKey' }
  /** The signature does not verify under the public key: forged or modified report. */
  | { kind: 'BadSignature' }
  /** Genuine, but for another nonce: a replayed (stale) report. */
  | { kind: 'WrongNonce' }
  /** Genuine, but its chain value is not the chain of its own measurement log. */
  | { kind: 'ChainMismatch' };

/** Result of {@link verifyReport} and {@link decodeReport}. */
export type ReportResult = { ok: true; report: AttestationReport } | { ok: false; error: ReportError };

/** The chain value after extending `chain` with one measurement. */
export function extendMeasurementChain(chain: Uint8Array, measurement: Measurement): Uint8Array {
  const name = nameBytes(measurement.component);
  return sha256(concatBytes(chain, Uint8Array.of(name.length), name, measurement.sha256));
}

/** The chain value of a whole measurement log (chain₀ = 32 zero bytes). */
export function measurementChainOf(measurements: readonly Measurement[]): Uint8Array {
  let chain: Uint8Array = new Uint8Array(SHA256_BYTES);
  for (const measurement of measurements) chain = extendMeasurementChain(chain, measurement);
  return chain;
}

function isPrintableName(bytes: Uint8Array): boolean {
  if (bytes.length < 1 || bytes.length > REPORT_MAX_NAME_BYTES) return false;
  for (const b of bytes) if (b < 0x21 || b > 0x7e) return false;
  return true;
}

function nameBytes(component: string): Uint8Array {
  const bytes = new Uint8Array(component.length);
  for (let i = 0; i < component.length; i++) bytes[i] = Math.min(component.charCodeAt(i), 0xff);
  if (!isPrintableName(bytes)) {
    throw new RangeError(
      `component name '${component}' must be 1..${REPORT_MAX_NAME_BYTES} chars of 0x21..0x7e`,
    );
  }
  return bytes;
}

function isPolicy(code: number): code is ReportExecPolicy {
  return (
    code === ReportExecPolicy.MeasuredOnly ||
    code === ReportExecPolicy.Allow ||
    code === ReportExecPolicy.Deny
  );
}

/**
 * The canonical bytes of a report without its signature (what the firmware signs, after the
 * domain prefix).
 * @throws RangeError on a field outside the format (a caller bug: reports are built by trusted code).
 */
export function encodeReportBody(report: AttestationReport): Uint8Array {
  const { containerId, execPolicy, imageDigest, configDigest, measurementChain, measurements, nonce } =
    report;
  if (!Number.isInteger(containerId) || containerId < 0 || containerId > 0xffff_ffff) {
    throw new RangeError(`container id ${containerId} is not u32`);
  }
  if (!isPolicy(execPolicy)) throw new RangeError(`unknown exec policy ${String(execPolicy)}`);
  for (const [what, digest] of [
    ['image digest', imageDigest],
    ['config digest', configDigest],
    ['measurement chain', measurementChain],
  ] as const) {
    if (digest.length !== SHA256_BYTES) throw new RangeError(`${what} must be ${SHA256_BYTES} bytes`);
  }
  if (nonce.length < 1 || nonce.length > REPORT_MAX_NONCE_BYTES) {
    throw new RangeError(`nonce must be 1..${REPORT_MAX_NONCE_BYTES} bytes`);
  }
  if (measurements.length > REPORT_MAX_MEASUREMENTS) {
    throw new RangeError(`at most ${REPORT_MAX_MEASUREMENTS} measurements`);
  }
  const names = measurements.map((m) => {
    if (m.sha256.length !== SHA256_BYTES) throw new RangeError(`digest of '${m.component}' must be 32 bytes`);
    return nameBytes(m.component);
  });
  let length = REPORT_FIXED_BYTES + nonce.length;
  for (const name of names) length += 1 + name.length + SHA256_BYTES;

  const body = new Uint8Array(length);
  body.set(MAGIC, Off.magic);
  writeU16(body, Off.format, FORMAT);
  body[Off.policy] = execPolicy;
  body[Off.nonceLength] = nonce.length;
  writeU32(body, Off.containerId, containerId);
  writeU16(body, Off.count, measurements.length);
  body.set(measurementChain, Off.chain);
  body.set(imageDigest, Off.imageDigest);
  body.set(configDigest, Off.configDigest);
  body.set(nonce, Off.nonce);
  let offset = Off.nonce + nonce.length;
  measurements.forEach((m, i) => {
    const name = names[i]!;
    body[offset] = name.length;
    body.set(name, offset + 1);
    body.set(m.sha256, offset + 1 + name.length);
    offset += 1 + name.length + SHA256_BYTES;
  });
  return body;
}

/** The message Ed25519 signs for a report body: the domain string, then the body. */
export function reportSigningMessage(body: Uint8Array): Uint8Array {
  return concatBytes(DOMAIN, body);
}

/**
 * The signed report: body ‖ sign(domain ‖ body). `sign` is the firmware's Ed25519 signing function
 * (primitives.ts `ed25519Sign` over its private seed, for example).
 * @throws RangeError on an invalid report or a signature that is not 64 bytes.
 */
export function signReport(report: AttestationReport, sign: (message: Uint8Array) => Uint8Array): Uint8Array {
  const body = encodeReportBody(report);
  const signature = sign(reportSigningMessage(body));
  if (signature.length !== ED25519_SIGNATURE_BYTES) {
    throw new RangeError(`signature must be ${ED25519_SIGNATURE_BYTES} bytes, got ${signature.length}`);
  }
  return concatBytes(body, signature);
}

/**
 * Parse a signed report without checking its signature (for display). Accepts only the canonical
 * encoding; the returned report holds copies of the byte fields.
 */
export function decodeReport(bytes: Uint8Array): ReportResult {
  const malformed = (reason: string): ReportResult => ({ ok: false, error: { kind: 'Malformed', reason } });
  if (bytes.length < REPORT_FIXED_BYTES + 1 + ED25519_SIGNATURE_BYTES) return malformed('too short');
  if (!matchesAt(bytes, Off.magic, MAGIC)) return malformed('bad magic');
  if (readU16(bytes, Off.format) !== FORMAT) return malformed('unknown format');
  const policy = bytes[Off.policy]!;
  if (!isPolicy(policy)) return malformed('unknown exec policy');
  const nonceLength = bytes[Off.nonceLength]!;
  if (nonceLength < 1 || nonceLength > REPORT_MAX_NONCE_BYTES) return malformed('bad nonce length');
  const count = readU16(bytes, Off.count);
  if (count > REPORT_MAX_MEASUREMENTS) return malformed('too many measurements');
  if (readU16(bytes, Off.reserved) !== 0) return malformed('reserved field not zero');
  const bodyEnd = bytes.length - ED25519_SIGNATURE_BYTES;
  let offset = Off.nonce + nonceLength;
  if (offset > bodyEnd) return malformed('truncated nonce');
  const measurements: Measurement[] = [];
  for (let i = 0; i < count; i++) {
    if (offset + 1 > bodyEnd) return malformed('truncated measurement');
    const nameLength = bytes[offset]!;
    const end = offset + 1 + nameLength + SHA256_BYTES;
    if (end > bodyEnd) return malformed('truncated measurement');
    const name = bytes.subarray(offset + 1, offset + 1 + nameLength);
    if (!isPrintableName(name)) return malformed('bad component name');
    measurements.push({
      component: String.fromCharCode(...name),
      sha256: bytes.slice(offset + 1 + nameLength, end),
    });
    offset = end;
  }
  if (offset !== bodyEnd) return malformed('trailing bytes');
  return {
    ok: true,
    report: {
      containerId: readU32(bytes, Off.containerId),
      execPolicy: policy,
      imageDigest: bytes.slice(Off.imageDigest, Off.imageDigest + SHA256_BYTES),
      configDigest: bytes.slice(Off.configDigest, Off.configDigest + SHA256_BYTES),
      measurementChain: bytes.slice(Off.chain, Off.chain + SHA256_BYTES),
      measurements,
      nonce: bytes.slice(Off.nonce, Off.nonce + nonceLength),
    },
  };
}

/**
 * Verify a signed report as the container owner does: canonical encoding, Ed25519 signature under
 * `publicKey`, the nonce the verifier sent, and (unless `checkChain` is false) that the chain value
 * is the chain of the report's own measurement log. Returns the parsed report or the first failure.
 */
export function verifyReport(
  bytes: Uint8Array,
  publicKey: Uint8Array,
  expectedNonce: Uint8Array,
  options: { checkChain?: boolean } = {},
): ReportResult {
  if (publicKey.length !== ED25519_PUBLIC_KEY_BYTES) return { ok: false, error: { kind: 'BadPublicKey' } };
  const decoded = decodeReport(bytes);
  if (!decoded.ok) return decoded;
  const bodyEnd = bytes.length - ED25519_SIGNATURE_BYTES;
  const message = reportSigningMessage(bytes.subarray(0, bodyEnd));
  if (!ed25519Verify(publicKey, message, bytes.subarray(bodyEnd)))
    return { ok: false, error: { kind: 'BadSignature' } };
  const { report } = decoded;
  if (!bytesEqual(report.nonce, expectedNonce)) return { ok: false, error: { kind: 'WrongNonce' } };
  if (
    options.checkChain !== false &&
    !bytesEqual(report.measurementChain, measurementChainOf(report.measurements))
  ) {
    return { ok: false, error: { kind: 'ChainMismatch' } };
  }
  return decoded;
}
