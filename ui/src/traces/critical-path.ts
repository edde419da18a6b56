/**
 * The critical path of a trace: the chain of work that decided when the root finished. Jaeger's definition
 * (its TracePage/CriticalPath): walk back from the end of the root; at each point take the child that finished
 * last before that point, descend into it, and when a span has no such child left, the rest of its own time
 * back to its start is on the path and the walk continues in its parent from that span's start.
 *
 * Before the walk children are made to fit their parent (sanitize), which is how clock skew and asynchronous
 * work are handled:
 * - a child that starts before its parent (skew) is clipped to the parent's start;
 * - a child that ends after its parent (skew, or async work the parent did not wait for) is clipped to the
 *   parent's end;
 * - a child wholly outside its parent (fire-and-forget work after the parent ended, or skew larger than the
 *   parent) cannot have delayed the parent and is left out.
 * Clipping is top-down, so a grandchild fits the clipped child.
 *
 * Iterative and O(n log n): children are sorted by end once, and each span keeps a cursor into that order
 * (the walk's point only moves back), so a 10,000-span trace or a 10,000-deep chain costs one pass.
 */
import type { SpanTree } from './tree.ts';

/** A stretch of time on the critical path, spent in one span (its own work, not a child's). */
export interface PathSegment {
  node: number;
  startNs: number;
  endNs: number;
}

interface Fit {
  start: number;
  end: number;
  /** Children that fit (clipped), latest end first. */
  children: number[];
}

function sanitize(tree: SpanTree, root: number): Map<number, Fit> {
  const fit = new Map<number, Fit>();
  const r = tree.nodes[root]!;
  fit.set(root, { start: r.startNs, end: r.endNs, children: [] });
  const stack = [root];
  while (stack.length > 0) {
    const i = stack.pop()!;
    const f = fit.get(i)!;
    for (const c of tree.nodes[i]!.children) {
      const n = tree.nodes[c]!;
      // Wholly outside the (clipped) parent: could not have held it up. A zero-length child at an edge is inside.
      if (n.startNs > f.end || n.endNs < f.start) continue;
      fit.set(c, { start: Math.max(n.startNs, f.start), end: Math.min(n.endNs, f.end), children: [] });
      f.children.push(c);
      stack.push(c);
    }
    f.children.sort((a, b) => fit.get(b)!.end - fit.get(a)!.end || fit.get(a)!.start - fit.get(b)!.start || a - b);
  }
  return fit;
}

/** The critical path from `root` (default: the tree's main root), latest segment first. */
export function criticalPath(tree: SpanTree, root: number): PathSegment[] {
  if (tree.nodes[root] === undefined) return [];
  const fit = sanitize(tree, root);
  const cursor = new Map<number, number>();
  const out: PathSegment[] = [];
  const push = (node: number, startNs: number, endNs: number) => {
    if (endNs <= startNs) return;
    const last = out[out.length - 1];
    // The same span resumed right where it left off: one segment.
    if (last && last.node === node && last.startNs === endNs) last.startNs = startNs;
    else out.push({ node, startNs, endNs });
  };
  let cur = root;
  let t = fit.get(root)!.end;
  for (;;) {
    const f = fit.get(cur)!;
    // The child that finished last at or before t (on a tie, the longer one), not yet walked (each child is walked once: the cursor only advances).
    let k = cursor.get(cur) ?? 0;
    while (k < f.children.length && fit.get(f.children[k]!)!.end > t) k++;
    const child = f.children[k];
    if (child !== undefined) {
      cursor.set(cur, k + 1);
      const cf = fit.get(child)!;
      push(cur, cf.end, t);
      cur = child;
      t = cf.end;
      continue;
    }
    cursor.set(cur, k);
    push(cur, f.start, t);
    if (cur === root) break;
    t = f.start;
    cur = tree.nodes[cur]!.parent;
  }
  return out;
}

/** The nodes with time on the path, and per node its segments (for drawing). */
export function pathByNode(segments: readonly PathSegment[]): Map<number, PathSegment[]> {
  const m = new Map<number, PathSegment[]>();
  for (const s of segments) {
    const list = m.get(s.node);
    if (list) list.push(s);
    else m.set(s.node, [s]);
  }
  return m;
}
