/**
 * Unpacking image layers into one {@link ImageTree}, lowest layer first, with the OCI rules for
 * changesets (image-spec layer.md): an entry replaces what its path held unless both are
 * directories; `.wh.<name>` deletes `<name>` from the lower layers and `.wh..wh..opq` empties its
 * directory of lower-layer content (whiteouts of a layer are applied before its other entries, so
 * they never hide entries of their own layer).
 *
 * Hostile input is refused with the entry named: path traversal, symlinks that are absolute or leave
 * the root, hard links to anything but a regular file already unpacked, device nodes, fifos,
 * unknown entry types, a path through a non-directory, and entries over the limits.
 * SIMPLIFICATION: symlink targets are checked lexically; the kernel resolves them inside the
 * container root at run time anyway.
 */
import { maybeGunzip } from './compression.js';
import { ImageError } from './errors.js';
import { DEFAULT_UNPACK_LIMITS, maxTarBytes, type UnpackLimits } from './limits.js';
import { checkSymlinkTarget, entryComponents, joinPath, quote } from './paths.js';
import { readTar, type TarBudget, type TarEntry } from './tar-read.js';
import type { ImageTree, TreeEntry } from './tree-types.js';

/** Ownership and permissions of a node. */
interface Meta {
  mode: number;
  uid: number;
  gid: number;
}

/** A node of the tree being built. Hard links are the same file node under two names. */
type Node =
  | { readonly kind: 'dir'; meta: Meta; readonly children: Map<string, Node> }
  | { readonly kind: 'file'; readonly meta: Meta; readonly content: Uint8Array }
  | { readonly kind: 'symlink'; readonly meta: Meta; readonly target: string };

type DirNode = Extract<Node, { kind: 'dir' }>;

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_WHITEOUT = '.wh..wh..opq';
const IMPLICIT_DIR: Meta = { mode: 0o755, uid: 0, gid: 0 };

function metaOf(entry: TarEntry): Meta {
  return { mode: entry.mode & 0o7777, uid: entry.uid, gid: entry.gid };
}

/**
 * The directory at `components`, creating missing ones when `create` (for the entry at `entryPath`,
 * refused when its path goes through a non-directory); undefined if absent.
 */
function directoryAt(
  root: DirNode,
  components: readonly string[],
  create: boolean,
  what: string,
  entryPath = joinPath(components),
): DirNode | undefined {
  let dir = root;
  for (let i = 0; i < components.length; i++) {
    const name = components[i]!;
    const child = dir.children.get(name);
    if (child === undefined) {
      if (!create) return undefined;
      const made: DirNode = { kind: 'dir', meta: { ...IMPLICIT_DIR }, children: new Map() };
      dir.children.set(name, made);
      dir = made;
    } else if (child.kind === 'dir') {
      dir = child;
    } else {
      if (!create) return undefined;
      const parent = joinPath(components.slice(0, i + 1));
      throw new ImageError(
        `${what}: entry ${quote(entryPath)} is under ${quote(parent)}, which is not a directory`,
      );
    }
  }
  return dir;
}

/** Apply the whiteout entry at `components` (its last component starts with `.wh.`). */
function applyWhiteout(root: DirNode, components: readonly string[], what: string): void {
  const name = components[components.length - 1]!;
  const parent = directoryAt(root, components.slice(0, -1), false, what);
  if (name === OPAQUE_WHITEOUT) {
    parent?.children.clear();
    return;
  }
  const hidden = name.slice(WHITEOUT_PREFIX.length);
  if (hidden.startsWith(WHITEOUT_PREFIX) || hidden.length === 0) {
    throw new ImageError(`${what}: entry ${quote(joinPath(components))} is an unsupported whiteout`);
  }
  parent?.children.delete(hidden);
}

/** The node a tar entry becomes, or an ImageError for a type images may not hold. */
function nodeFor(
  root: DirNode,
  entry: TarEntry,
  components: readonly string[],
  limits: UnpackLimits,
  what: string,
): Node {
  const path = quote(joinPath(components));
  switch (entry.type) {
    case 'file':
    case 'contiguous-file':
      return { kind: 'file', meta: metaOf(entry), content: entry.data };
    case 'directory':
      return { kind: 'dir', meta: metaOf(entry), children: new Map() };
    case 'symlink':
      checkSymlinkTarget(components, entry.linkname, limits.maxPathLength, what);
      return { kind: 'symlink', meta: metaOf(entry), target: entry.linkname };
    case 'link': {
      const targetComponents = entryComponents(entry.linkname, limits.maxPathLength, what);
      const dir = directoryAt(root, targetComponents.slice(0, -1), false, what);
      const last = targetComponents[targetComponents.length - 1];
      const target = last === undefined ? undefined : dir?.children.get(last);
      const targetPath = quote(joinPath(targetComponents));
      if (target === undefined) {
        throw new ImageError(
          `${what}: hard link ${path} -> ${targetPath} names a file not in the image (yet)`,
        );
      }
      if (target.kind !== 'file') {
        throw new ImageError(`${what}: hard link ${path} -> ${targetPath} does not name a regular file`);
      }
      return target;
    }
    case 'character-device':
    case 'block-device':
      throw new ImageError(
        `${what}: entry ${path} is a ${entry.type} (device nodes are not allowed in images)`,
      );
    case 'fifo':
      throw new ImageError(`${what}: entry ${path} is a fifo (not allowed in images)`);
    default:
      throw new ImageError(`${what}: entry ${path} has an unsupported type '${String(entry.type)}'`);
  }
}

/** Add the (non-whiteout) entry at `components`. */
function addEntry(
  root: DirNode,
  entry: TarEntry,
  components: readonly string[],
  limits: UnpackLimits,
  what: string,
): void {
  const node = nodeFor(root, entry, components, limits, what);
  const name = components[components.length - 1];
  if (name === undefined) {
    if (node.kind !== 'dir')
      throw new ImageError(`${what}: entry ${quote(entry.name)} replaces the image root`);
    root.meta = node.meta;
    return;
  }
  const parent = directoryAt(root, components.slice(0, -1), true, what, joinPath(components))!;
  const existing = parent.children.get(name);
  if (existing?.kind === 'dir' && node.kind === 'dir') existing.meta = node.meta;
  else parent.children.set(name, node);
}

/** Apply one layer's entries to the tree. */
function applyLayer(root: DirNode, entries: readonly TarEntry[], limits: UnpackLimits, what: string): void {
  const parsed = entries.map((entry) => ({
    entry,
    components: entryComponents(entry.name, limits.maxPathLength, what),
  }));
  const isWhiteout = (components: readonly string[]): boolean =>
    components[components.length - 1]?.startsWith(WHITEOUT_PREFIX) === true;
  for (const { components } of parsed) if (isWhiteout(components)) applyWhiteout(root, components, what);
  for (const { entry, components } of parsed)
    if (!isWhiteout(components)) addEntry(root, entry, components, limits, what);
}

/** The sorted entries of the tree; the second and later names of a file node become hard links. */
function flatten(root: DirNode): ImageTree {
  const entries: TreeEntry[] = [];
  const firstName = new Map<Node, string>();
  let fileBytes = 0;
  const visit = (node: Node, path: string): void => {
    const base = { path, mode: node.meta.mode, uid: node.meta.uid, gid: node.meta.gid };
    switch (node.kind) {
      case 'dir': {
        entries.push({ ...base, type: 'dir' });
        const names = [...node.children.keys()].sort();
        for (const name of names)
          visit(node.children.get(name)!, path === '/' ? `/${name}` : `${path}/${name}`);
        return;
      }
      case 'file': {
        const first = firstName.get(node);
        if (first !== undefined) {
          entries.push({ ...base, type: 'hardlink', target: first, content: node.content });
          return;
        }
        firstName.set(node, path);
        fileBytes += node.content.length;
        entries.push({ ...base, type: 'file', content: node.content });
        return;
      }
      case 'symlink':
        entries.push({ ...base, type: 'symlink', target: node.target });
        return;
    }
  };
  visit(root, '/');
  return { entries, fileBytes };
}

/**
 * Unpack `layers` (tar archives, lowest first; gzip-compressed ones are inflated) into one tree,
 * or throw an ImageError naming the layer and entry refused.
 */
export async function unpackLayers(
  layers: readonly Uint8Array[],
  limits: Partial<UnpackLimits> = {},
): Promise<ImageTree> {
  const bounds: UnpackLimits = { ...DEFAULT_UNPACK_LIMITS, ...limits };
  const root: DirNode = { kind: 'dir', meta: { ...IMPLICIT_DIR }, children: new Map() };
  const budget: TarBudget = { entries: 0, bytes: 0 };
  for (const [index, layer] of layers.entries()) {
    const what = `layer ${index + 1} of ${layers.length}`;
    const tar = maybeGunzip(layer, maxTarBytes(bounds), what);
    const entries = await readTar(
      tar,
      {
        maxEntries: bounds.maxEntries,
        maxEntryBytes: bounds.maxFileBytes,
        maxTotalBytes: bounds.maxImageBytes,
      },
      what,
      budget,
    );
    applyLayer(root, entries, bounds, what);
  }
  return flatten(root);
}
