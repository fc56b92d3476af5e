/**
 * Reading a tar archive (an image archive or a layer) into memory with tar-stream, under limits
 * checked on each header before its content is read: an archive cannot make the store buffer more
 * than `maxTotalBytes` or hold more than `maxEntries` entries. PAX and GNU long names are applied
 * by tar-stream; an entry's type is reported as tar-stream names it.
 */
import { extract, type Header } from 'tar-stream';
import { ImageError } from './errors.js';
import { quote } from './paths.js';

/** A tar entry's type as tar-stream reports it. */
export type TarEntryType = Header['type'];

/** One entry of an archive, content included. */
export interface TarEntry {
  /** The name as stored (not normalised). */
  readonly name: string;
  readonly type: TarEntryType;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Link target of a symlink or hard link ('' otherwise). */
  readonly linkname: string;
  /** Content of a regular file (empty for other types). */
  readonly data: Uint8Array;
}

/** Bounds on what one archive may contain. */
export interface TarLimits {
  readonly maxEntries: number;
  readonly maxEntryBytes: number;
  readonly maxTotalBytes: number;
}

/** Concatenate byte chunks into a plain Uint8Array (a view of the only chunk when there is one). */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1)
    return new Uint8Array(chunks[0]!.buffer, chunks[0]!.byteOffset, chunks[0]!.byteLength);
  const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** Entries and content bytes read so far, shared by the archives of one image. */
export interface TarBudget {
  entries: number;
  bytes: number;
}

/** Check one header against the limits, given what was read before it. */
function checkHeader(header: Header, budget: TarBudget, limits: TarLimits, what: string): void {
  if (budget.entries >= limits.maxEntries) {
    throw new ImageError(`${what}: too many entries (the limit is ${limits.maxEntries})`);
  }
  if (header.size > limits.maxEntryBytes) {
    throw new ImageError(
      `${what}: entry ${quote(header.name)} is ${header.size} bytes, over the limit of ${limits.maxEntryBytes}`,
    );
  }
  if (budget.bytes + header.size > limits.maxTotalBytes) {
    throw new ImageError(`${what}: too much content (the limit is ${limits.maxTotalBytes} bytes in total)`);
  }
}

/**
 * Every entry of the tar archive `bytes` (called `what` in messages), in archive order. `budget`
 * carries the counts over several archives checked against one set of limits (an image's layers).
 */
export async function readTar(
  bytes: Uint8Array,
  limits: TarLimits,
  what: string,
  budget: TarBudget = { entries: 0, bytes: 0 },
): Promise<TarEntry[]> {
  const archive = extract();
  archive.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const entries: TarEntry[] = [];
  try {
    for await (const source of archive) {
      const header = source.header;
      checkHeader(header, budget, limits, what);
      const chunks: Uint8Array[] = [];
      for await (const chunk of source) chunks.push(chunk as Uint8Array);
      const data = concatBytes(chunks);
      budget.entries += 1;
      budget.bytes += data.length;
      entries.push({
        name: header.name,
        type: header.type,
        mode: header.mode,
        uid: header.uid,
        gid: header.gid,
        linkname: header.linkname ?? '',
        data,
      });
    }
  } catch (error) {
    if (error instanceof ImageError) throw error;
    throw new ImageError(`${what} is not a valid tar archive (${(error as Error).message})`);
  }
  return entries;
}
