/**
 * Writing a tar archive with tar-stream, deterministically: every entry gets mtime 0, empty
 * user/group names and the ids given (default 0), and entries are written in the order given, so
 * the same entries always give the same bytes (and the same digest) on any machine.
 */
import { pack, type Header } from 'tar-stream';
import { concatBytes, type TarEntryType } from './tar-read.js';

/** One entry to write. */
export interface TarWriteEntry {
  readonly name: string;
  readonly type: TarEntryType;
  /** Permission bits (tar-stream writes 0o755/0o644 for 0). */
  readonly mode: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly linkname?: string;
  /** Content of a regular file. */
  readonly data?: Uint8Array;
}

/** The fixed modification time of every entry the store writes. */
export const FIXED_MTIME = new Date(0);

/** The tar archive holding `entries`, in that order. */
export async function writeTar(entries: readonly TarWriteEntry[]): Promise<Uint8Array> {
  const archive = pack();
  const chunks: Uint8Array[] = [];
  const ended = new Promise<void>((resolve, reject) => {
    archive.on('data', (chunk: unknown) => chunks.push(chunk as Uint8Array));
    archive.on('end', () => resolve());
    archive.on('error', reject);
  });
  for (const entry of entries) {
    const header: Header = {
      name: entry.name,
      type: entry.type,
      mode: entry.mode,
      uid: entry.uid ?? 0,
      gid: entry.gid ?? 0,
      mtime: FIXED_MTIME,
      linkname: entry.linkname ?? '',
      uname: '',
      gname: '',
      size: entry.data?.length ?? 0,
      devmajor: 0,
      devminor: 0,
    };
    await new Promise<void>((resolve, reject) => {
      const done = (error?: Error | null): void => (error ? reject(error) : resolve());
      if (entry.type === 'file' || entry.type === 'contiguous-file') {
        const data = entry.data ?? new Uint8Array(0);
        archive.entry(header, Buffer.from(data.buffer, data.byteOffset, data.byteLength), done);
      } else {
        archive.entry(header, done);
      }
    });
  }
  archive.finalize();
  await ended;
  return concatBytes(chunks);
}
