/**
 * The reference values `rcontainer attest` appraises evidence against, gathered on the owner's
 * side: the boot measurements of this build, the measured binary list and config of the image in
 * the owner's own image store, the exec policy the container was created with, and the platform's
 * public key (pinned with --platform-key, else as the daemon publishes it in GET /info).
 *
 * SIMPLIFICATION: a real verifier gets the platform key from the vendor's endorsement (a
 * certificate for the CCA platform attestation key), not from the host it is appraising. Without
 * --platform-key the anchor is only as good as the daemon that published it; pin it to check a
 * machine you do not control.
 */
import { referenceBootMeasurements, type ReferenceValues } from '../../runtime/attestation/appraise.js';
import {
  EXEC_POLICIES,
  EXEC_POLICY_ANNOTATION,
  EXEC_POLICY_CODES,
  type ExecPolicyName,
} from '../../runtime/bundle/spec.js';
import { ImageError, listExecutables, measuredBinaryListDigest } from '../../runtime/image/index.js';
import { openImages } from '../engine-state.js';
import { isBuiltin } from '../images.js';
import { EngineError } from '../errors.js';
import type { ContainerInspect } from './api.js';

/** Where each reference value came from, for the person reading the result. */
export interface ReferenceSources {
  readonly platformKey: string;
  readonly image: string;
  readonly execPolicy: string;
}

/** What `attest` takes to choose its references. */
export interface ReferenceOptions {
  readonly platformKey?: string;
  readonly image?: string;
  readonly execPolicy?: string;
}

/** Check the options before anything is asked of the daemon (EngineError names the bad one). */
export function checkReferenceOptions(options: ReferenceOptions): void {
  if (options.platformKey !== undefined && !/^[0-9a-fA-F]{64}$/.test(options.platformKey))
    throw new EngineError(`attest: --platform-key takes 32 bytes in hex, not '${options.platformKey}'`);
  if (options.execPolicy !== undefined && !(EXEC_POLICIES as readonly string[]).includes(options.execPolicy))
    throw new EngineError(
      `attest: --exec-policy takes one of ${EXEC_POLICIES.join(', ')}, not '${options.execPolicy}'`,
    );
}

/** The reference values for `container`, and where each came from. */
export async function referenceValues(
  stateDir: string,
  container: ContainerInspect,
  publishedKey: string | null | undefined,
  options: ReferenceOptions,
): Promise<{ reference: ReferenceValues; sources: ReferenceSources }> {
  const keyHex = options.platformKey ?? publishedKey;
  if (keyHex === undefined || keyHex === null)
    throw new EngineError('attest: the daemon publishes no platform key (is it the rcontainer design?)');
  const image =
    options.image !== undefined
      ? await imageReference(stateDir, options.image, options.image)
      : await imageReference(stateDir, container.imageId ?? container.image, imageLabel(container));
  const policy = (options.execPolicy as ExecPolicyName | undefined) ?? createdPolicy(container);
  return {
    reference: {
      platformPublicKey: new Uint8Array(Buffer.from(keyHex, 'hex')),
      boot: referenceBootMeasurements(),
      ...image.values,
      execPolicy: EXEC_POLICY_CODES[policy],
    },
    sources: {
      platformKey:
        options.platformKey !== undefined ? 'pinned with --platform-key' : 'as the daemon publishes it',
      image: image.source,
      execPolicy:
        options.execPolicy !== undefined ? 'given with --exec-policy' : 'as the container was created',
    },
  };
}

/** The image's measured binary list and config digests from the local store (absent if it is not there). */
async function imageReference(
  stateDir: string,
  ref: string,
  label: string,
): Promise<{ values: Pick<ReferenceValues, 'imageDigest' | 'configDigest'>; source: string }> {
  const store = openImages(stateDir);
  let record;
  try {
    if (isBuiltin(ref) && !store.has(ref)) await store.ensureBuiltin(ref.replace(/:latest$/, ''));
    record = store.resolve(ref);
  } catch (error) {
    if (!(error instanceof ImageError)) throw error;
    return { values: {}, source: `image ${label} is not in the local store: not checked` };
  }
  const executables = listExecutables(await store.unpack(record));
  return {
    values: {
      imageDigest: digestBytes(`sha256:${measuredBinaryListDigest(executables)}`),
      configDigest: digestBytes(record.configDigest),
    },
    source: `the ${executables.length} executables and config of ${label} in the local store`,
  };
}

/** The container's image by name and short id, e.g. `kv (04753d149fc0)`. */
function imageLabel(container: ContainerInspect): string {
  const id = container.imageId?.slice('sha256:'.length, 'sha256:'.length + 12);
  return id === undefined ? container.image : `${container.image} (${id})`;
}

/** The exec policy the container's spec names (measuredOnly when it names none). */
function createdPolicy(container: ContainerInspect): ExecPolicyName {
  const config = container.config as { annotations?: Record<string, unknown> } | undefined;
  const named = config?.annotations?.[EXEC_POLICY_ANNOTATION];
  return typeof named === 'string' && named in EXEC_POLICY_CODES ? (named as ExecPolicyName) : 'measuredOnly';
}

function digestBytes(digest: string): Uint8Array {
  return new Uint8Array(Buffer.from(digest.slice('sha256:'.length), 'hex'));
}
