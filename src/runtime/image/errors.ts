/**
 * The one error type of the image store. Every refusal (bad reference, corrupted blob, hostile
 * archive entry, image in use) is an `ImageError` with a one-line message that names the thing
 * refused; the CLI prints it as `rcontainer: <message>` and exits with 125, as Docker does.
 */
export class ImageError extends Error {
  override readonly name = 'ImageError';
}
