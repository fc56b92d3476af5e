/** Errors of the daemon's API with the HTTP status Docker answers with. */

/** A refused request: one-line message, Docker's status (400, 403 forbidden by policy, 404, 409, 429 try again, 500). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: 400 | 403 | 404 | 409 | 429 | 500;

  constructor(message: string, status: 400 | 403 | 404 | 409 | 429 | 500) {
    super(message);
    this.status = status;
  }
}

/** Docker's 404 for a container that does not exist. */
export function noSuchContainer(ref: string): ApiError {
  return new ApiError(`No such container: ${ref}`, 404);
}
