/**
 * `--init` (Docker's): the command runs under the image's tini, which forwards signals to it and
 * reaps orphans (a namespace's init gets no signal it has no handler for). The init must be one of
 * the image's measured binaries, so that the measuredOnly exec policy admits it and the
 * attestation report covers it; Docker instead mounts one from the host, which would be an
 * unmeasured binary here.
 */
import type { ContainerMeasurements } from '../designs/image-container.js';
import { INIT_PROGRAM } from '../runtime/bundle/spec.js';

/** Why `--init` cannot be used with an image of these measurements (undefined: it can). */
export function initProblem(measurements: ContainerMeasurements): string | undefined {
  const wanted = INIT_PROGRAM.replace(/^\//, '');
  if (measurements.binaries.some((b) => b.path.replace(/^\//, '') === wanted)) return undefined;
  return `--init: the image has no ${INIT_PROGRAM} among its measured binaries (the built-in images have it)`;
}
