/**
 * What the daemon shows of its machine beyond containers' lives: attestation evidence of a
 * container, verified as its owner would (GET /containers/{id}/attest), the GPT views and granule
 * owners (GET /gpt), and the machine summary (GET /info). Evidence and GPT views exist only under
 * the rcontainer design: native answers 409.
 */
import { RcontainerPlatform } from '../../designs/rcontainer.js';
import { gptSummary, type GptSummaryRow } from '../../eval/attacks/gpt-summary.js';
import { strerror } from '../../kernel/uapi/errno.js';
import { ATTEST_TRAILER_BYTES } from '../../minios/abi.js';
import { verifyReport } from '../../minios/crypto/attestation.js';
import type { Engine } from './engine.js';
import { ApiError } from './errors.js';

/** The answer of GET /containers/{id}/attest. */
export interface AttestAnswer {
  readonly verified: boolean;
  /** Why verification failed (absent when verified). */
  readonly error?: string;
  readonly report: Record<string, unknown> | undefined;
  readonly evidence: string;
}

/** The answer of GET /gpt. */
export interface GptAnswer {
  readonly granuleBytes: number;
  readonly views: readonly string[];
  /** Granules per owner and how many each view leaves open. */
  readonly owners: readonly GptSummaryRow[];
  /** The machine's container ids (cid) of the engine's containers. */
  readonly containers: readonly { readonly cid: number; readonly id: string; readonly name: string }[];
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** Attestation evidence of container `ref` for `nonceHex` (1..64 bytes), verified. */
export function attestContainer(engine: Engine, ref: string, nonceHex: string | undefined): AttestAnswer {
  if (nonceHex === undefined || !/^([0-9a-fA-F]{2}){1,64}$/.test(nonceHex))
    throw new ApiError('nonce must be 1 to 64 bytes in hex (?nonce=...)', 400);
  const container = engine.find(ref);
  if (!(engine.system.platform instanceof RcontainerPlatform))
    throw new ApiError(`attestation needs the rcontainer design; this daemon runs ${engine.design}`, 409);
  const cid = container.live?.cid;
  if (cid === undefined)
    throw new ApiError(`Container ${container.meta.name} is not on this machine (start it first)`, 409);
  const nonce = new Uint8Array(Buffer.from(nonceHex, 'hex'));
  const evidence = engine.system.attest(cid, nonce);
  if (typeof evidence === 'number')
    throw new ApiError(`attest: the platform refused (${strerror(evidence).toLowerCase()})`, 500);
  const report = evidence.subarray(0, evidence.length - ATTEST_TRAILER_BYTES);
  const key = evidence.subarray(evidence.length - ATTEST_TRAILER_BYTES, evidence.length - 64);
  const result = verifyReport(report, key, nonce);
  if (!result.ok)
    return { verified: false, error: result.error.kind, report: undefined, evidence: hex(evidence) };
  const r = result.report;
  return {
    verified: true,
    report: {
      containerId: r.containerId,
      execPolicy: r.execPolicy,
      imageDigest: `sha256:${hex(r.imageDigest)}`,
      configDigest: `sha256:${hex(r.configDigest)}`,
      measurementChain: hex(r.measurementChain),
      measurements: r.measurements.map((m) => ({ component: m.component, sha256: hex(m.sha256) })),
      nonce: hex(r.nonce),
    },
    evidence: hex(evidence),
  };
}

/** The GPT views of the machine (409 under native). */
export function gptOf(engine: Engine): GptAnswer {
  const platform = engine.system.platform;
  if (!(platform instanceof RcontainerPlatform))
    throw new ApiError(`GPT views need the rcontainer design; this daemon runs ${engine.design}`, 409);
  const summary = gptSummary(platform);
  return {
    granuleBytes: summary.granuleBytes,
    views: summary.views,
    owners: summary.rows,
    containers: engine
      .all()
      .flatMap((c) => (c.live === undefined ? [] : [{ cid: c.live.cid, id: c.meta.id, name: c.meta.name }])),
  };
}

/** GET /info. */
export function infoOf(engine: Engine): Record<string, unknown> {
  const containers = engine.all();
  const platform = engine.system.platform;
  return {
    design: engine.design,
    cpus: engine.cpus,
    simulatedNs: engine.system.elapsedNs,
    containers: containers.length,
    running: containers.filter((c) => c.meta.state === 'running').length,
    images: engine.store.list().length,
    // The trust anchor of attestation, as a platform's vendor publishes it (null under native).
    platformKey: platform instanceof RcontainerPlatform ? hex(platform.firmware.publicKey) : null,
  };
}
