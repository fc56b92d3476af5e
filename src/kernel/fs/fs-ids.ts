/**
 * Numbers the VFS hands out, one counter set per kernel so that runs are deterministic: mount ids
 * and anonymous device numbers (st_dev 0:N of tmpfs, overlay, proc, devtmpfs instances).
 */

/** Counters of one kernel's VFS. */
export class FsIds {
  private nextMount = 1;
  private nextDev = 1;

  /** A new mount id. */
  mountId(): number {
    return this.nextMount++;
  }

  /** A new anonymous device number (major 0). */
  anonDev(): number {
    return this.nextDev++;
  }
}
