/**
 * The unpacked file tree of an image, as the engine installs it into a container's root file
 * system: entries with absolute paths, sorted so that a directory comes before its contents.
 */

/** What every entry has. */
interface TreeEntryBase {
  /** Absolute path inside the image root (`/` for the root itself). */
  readonly path: string;
  /** Permission bits, setuid/setgid/sticky included (`mode & 0o7777`). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/** One entry of an unpacked image. */
export type TreeEntry =
  | (TreeEntryBase & { readonly type: 'dir' })
  | (TreeEntryBase & { readonly type: 'file'; readonly content: Uint8Array })
  | (TreeEntryBase & { readonly type: 'symlink'; readonly target: string })
  /** A second name of an earlier `file` entry (`target`, an absolute path); `content` is shared with it. */
  | (TreeEntryBase & { readonly type: 'hardlink'; readonly target: string; readonly content: Uint8Array });

/** An unpacked image. */
export interface ImageTree {
  /** Every entry, root first, then depth-first with names in code-unit order. */
  readonly entries: readonly TreeEntry[];
  /** Sum of the sizes of distinct regular files (hard links counted once). */
  readonly fileBytes: number;
}
