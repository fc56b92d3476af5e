/**
 * Reference counts of user pages (physical frames mapped by one or more address spaces): copy on
 * write copies a page only while it is shared, and a page goes back to its pool at the last unmap.
 */
export class PageRefs {
  private readonly counts = new Map<number, number>();

  /** References to the page at `pa` (0 if none). */
  count(pa: number): number {
    return this.counts.get(pa) ?? 0;
  }

  /** One more reference. */
  add(pa: number): void {
    this.counts.set(pa, (this.counts.get(pa) ?? 0) + 1);
  }

  /** One reference fewer; true when it was the last (the page is free). */
  drop(pa: number): boolean {
    const n = (this.counts.get(pa) ?? 0) - 1;
    if (n > 0) {
      this.counts.set(pa, n);
      return false;
    }
    this.counts.delete(pa);
    return true;
  }

  /** Pages referenced at all. */
  get size(): number {
    return this.counts.size;
  }
}
