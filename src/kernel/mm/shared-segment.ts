/**
 * Shared memory that several address spaces map at once: a SysV shm segment or a
 * MAP_SHARED|MAP_ANONYMOUS area inherited across fork. Its pages are user frames of one context,
 * allocated on first touch and freed when the segment and every mapping of it are gone.
 */
import type { PageRefs } from './page-refs.js';

/** A shared segment. */
export class SharedSegment {
  /** Frames by page index (undefined until first touched). */
  readonly frames: (number | undefined)[];
  readonly cid: number;
  readonly bytes: number;
  /** Mappings plus, for SysV segments, the id (removed by IPC_RMID). */
  private holders = 0;
  private readonly onLastRelease: (frames: number[]) => void;

  constructor(cid: number, bytes: number, onLastRelease: (frames: number[]) => void) {
    this.cid = cid;
    this.bytes = bytes;
    this.frames = new Array<number | undefined>(Math.ceil(bytes / 4096)).fill(undefined);
    this.onLastRelease = onLastRelease;
  }

  retain(): void {
    this.holders++;
  }

  /** Drop the holder of an area that was split (its pieces hold the segment now): never the last. */
  dropPiece(): void {
    this.holders--;
  }

  /** Drop a holder; the last one frees the frames the segment itself references. */
  release(refs: PageRefs): void {
    this.holders--;
    if (this.holders > 0) return;
    const free = this.frames.filter((pa): pa is number => pa !== undefined && refs.drop(pa));
    this.frames.fill(undefined);
    this.onLastRelease(free);
  }
}
