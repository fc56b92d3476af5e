/** An error caused by the user's input: printed as one line, exit code 2, no stack trace. */
export class UserError extends Error {
  override readonly name = 'UserError';
}

/**
 * An error of the container engine (a bad image, a refused action): one line, exit code 125 as
 * Docker gives for errors of the daemon rather than of the container.
 */
export class EngineError extends Error {
  override readonly name = 'EngineError';
}
