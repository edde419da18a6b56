/**
 * Tells a URL value that echoes our own typing from one changed elsewhere (back/forward, a link). Router updates
 * arrive in order but late, so every value written and not yet seen is remembered: a value among them is an echo
 * (it and the ones written before it are now seen), any other value is outside and forgets them all.
 */
export class Echoes {
  private unseen: string[] = [];

  wrote(value: string): void {
    this.unseen.push(value);
    // A router that drops intermediate values never echoes them; keep the memory bounded.
    if (this.unseen.length > 256) this.unseen.splice(0, this.unseen.length - 256);
  }

  /** True when `value` is an echo of something written; false when it came from elsewhere. */
  seen(value: string): boolean {
    const at = this.unseen.indexOf(value);
    if (at >= 0) {
      this.unseen = this.unseen.slice(at + 1);
      return true;
    }
    this.unseen = [];
    return false;
  }
}
