/**
 * The span tree of one trace, flattened for the waterfall. Pure, so its rules are tested in a table
 * (tree.test.ts), and fast enough for 10,000+ spans: O(n log n) (one map of ids, children sorted by start,
 * iterative walks: a 10,000-deep chain must not overflow the stack).
 *
 * Input is the API's compact trace (`shape=compact`): spans carry their start as a number relative to the
 * trace start and their resource by index, so building the tree parses no 64-bit strings and each node
 * points at its span as parsed (no copy per span).
 *
 * Rules, as a user of Jaeger or Tempo expects them:
 * - a span whose parent id is empty is a root; several roots are allowed (a trace joined from two systems);
 * - a span whose parent is not in the trace (lost, not yet arrived, sampled away, or past the route's limit) is
 *   shown as a root-level subtree marked with the missing parent's id: never dropped;
 * - a span id seen twice (a retried export stored twice) keeps both rows; children attach to the first;
 * - a cycle (a → b → a, or a span its own parent) cannot be reached from a root: the earliest span of the cycle
 *   becomes a root marked as such, so every span appears exactly once and nothing loops.
 *
 * Times are nanoseconds relative to the trace's earliest start, as plain numbers (exact up to 104 days).
 */
import type { CompactSpan, CompactTraceResponse, TraceResource, TraceScope } from '../../../query/contract.ts';

export interface TreeNode {
  span: CompactSpan;
  /** The span's service (its resource's service name). */
  service: string;
  /** Position in `SpanTree.nodes` (preorder: a node, then its subtree). */
  index: number;
  depth: number;
  /** Index of the parent node, -1 for a root. */
  parent: number;
  /** Child node indexes, in start order. */
  children: number[];
  /** Nodes in this node's subtree, itself included: the subtree is nodes[index, index + size). */
  size: number;
  startNs: number;
  endNs: number;
  /** Set on a root whose parent id names no span of the trace. */
  missingParent?: string;
  /** Another span of the trace has the same id (this is not the first). */
  duplicate?: boolean;
  /** The span's parent chain loops; shown as a root. */
  cycle?: boolean;
}

export interface SpanTree {
  traceId: string;
  nodes: TreeNode[];
  roots: number[];
  /** Earliest start, nanoseconds since the epoch: node times count from here. */
  startUnixNano: bigint;
  /** What the spans' `start` offsets count from (the API's `startTimeUnixNano`). */
  traceStartUnixNano: bigint;
  /** From the earliest start to the latest end. */
  durationNs: number;
  /** First node of each span id. */
  byId: Map<string, number>;
  orphans: number;
  services: string[];
  resources: readonly TraceResource[];
  scopes: readonly TraceScope[];
}

const NO_RESOURCE: TraceResource = { serviceName: '', attributes: {} };
const NO_SCOPE: TraceScope = { name: '', version: '' };
const UNSET = { code: 'Unset', message: '' } as const;

/** The span's status; the compact form leaves out an Unset status without a message. */
export const statusOf = (s: CompactSpan): { code: string; message: string } => s.status ?? UNSET;
export const resourceOf = (tree: SpanTree, s: CompactSpan): TraceResource => tree.resources[s.resource] ?? NO_RESOURCE;
export const scopeOf = (tree: SpanTree, s: CompactSpan): TraceScope => tree.scopes[s.scope] ?? NO_SCOPE;
/** The span's start, nanoseconds since the epoch, exact. */
export const startUnixNanoOf = (tree: SpanTree, n: TreeNode): string => (tree.traceStartUnixNano + BigInt(n.span.start)).toString();

interface Raw {
  span: CompactSpan;
  startNs: number;
  endNs: number;
  parent: number;
  children: number[];
  missingParent?: string;
  duplicate?: boolean;
  cycle?: boolean;
}

const byStart = (raws: Raw[]) => (a: number, b: number) => raws[a]!.startNs - raws[b]!.startNs || raws[a]!.endNs - raws[b]!.endNs || a - b;

export function buildTree(trace: CompactTraceResponse): SpanTree {
  const { spans, resources, scopes, traceId } = trace;
  const traceStart = BigInt(trace.startTimeUnixNano);
  if (spans.length === 0) {
    return { traceId, nodes: [], roots: [], startUnixNano: traceStart, traceStartUnixNano: traceStart, durationNs: 0, byId: new Map(), orphans: 0, services: [], resources, scopes };
  }
  // Offsets are ≥ 0 from the API (counted from the earliest start); re-based anyway so any input draws from 0.
  let min = Infinity;
  for (const s of spans) {
    const v = Number(s.start);
    if (v < min) min = v;
  }
  const raws: Raw[] = spans.map((span) => {
    const startNs = Number(span.start) - min;
    const d = Number(span.duration);
    return { span, startNs, endNs: startNs + (Number.isFinite(d) && d > 0 ? d : 0), parent: -1, children: [] };
  });
  const first = new Map<string, number>();
  raws.forEach((r, i) => {
    if (first.has(r.span.spanId)) r.duplicate = true;
    else first.set(r.span.spanId, i);
  });
  const roots: number[] = [];
  raws.forEach((r, i) => {
    const pid = r.span.parentSpanId;
    if (pid === '') {
      roots.push(i);
      return;
    }
    const p = first.get(pid);
    if (p === undefined || p === i) {
      r.missingParent = pid;
      roots.push(i);
      return;
    }
    r.parent = p;
    raws[p]!.children.push(i);
  });
  const cmp = byStart(raws);
  for (const r of raws) if (r.children.length > 1) r.children.sort(cmp);

  // Preorder walk from the roots; spans left unvisited sit on a cycle (or hang below one).
  const order: number[] = [];
  const depthOf = new Int32Array(raws.length);
  const visited = new Uint8Array(raws.length);
  const walk = (root: number) => {
    const stack = [root];
    depthOf[root] = 0;
    while (stack.length > 0) {
      const i = stack.pop()!;
      if (visited[i]) continue;
      visited[i] = 1;
      order.push(i);
      const ch = raws[i]!.children;
      for (let k = ch.length - 1; k >= 0; k--) {
        const c = ch[k]!;
        if (!visited[c]) {
          depthOf[c] = depthOf[i]! + 1;
          stack.push(c);
        }
      }
    }
  };
  roots.sort(cmp);
  for (const r of roots) walk(r);
  if (order.length < raws.length) {
    const left = raws.map((_, i) => i).filter((i) => !visited[i]).sort(cmp);
    for (const i of left) {
      if (visited[i]) continue;
      // Up the parent chain to a span seen twice: that one is on the cycle; break it at the cycle's earliest span.
      const seen = new Set<number>();
      let x = i;
      while (!seen.has(x)) {
        seen.add(x);
        x = raws[x]!.parent;
      }
      let cut = x;
      for (let y = raws[x]!.parent; y !== x; y = raws[y]!.parent) if (cmp(y, cut) < 0) cut = y;
      const r = raws[cut]!;
      // Detach from its parent: the cycle is broken here.
      const p = raws[r.parent];
      if (p) p.children = p.children.filter((c) => c !== cut);
      r.parent = -1;
      r.cycle = true;
      roots.push(cut);
      walk(cut);
    }
  }

  const pos = new Int32Array(raws.length);
  order.forEach((raw, at) => (pos[raw] = at));
  const nodes: TreeNode[] = order.map((raw, at) => {
    const r = raws[raw]!;
    const n: TreeNode = {
      span: r.span,
      service: (resources[r.span.resource] ?? NO_RESOURCE).serviceName,
      index: at,
      depth: depthOf[raw]!,
      parent: r.parent === -1 ? -1 : pos[r.parent]!,
      children: r.children.map((c) => pos[c]!),
      size: 1,
      startNs: r.startNs,
      endNs: r.endNs,
    };
    if (r.missingParent !== undefined) n.missingParent = r.missingParent;
    if (r.duplicate) n.duplicate = true;
    if (r.cycle) n.cycle = true;
    return n;
  });
  // Subtree sizes, children before parents (reverse preorder).
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    if (n.parent >= 0) nodes[n.parent]!.size += n.size;
  }
  const byId = new Map<string, number>();
  for (const n of nodes) if (!byId.has(n.span.spanId)) byId.set(n.span.spanId, n.index);
  let end = 0;
  for (const n of nodes) if (n.endNs > end) end = n.endNs;
  const minExact = min === 0 ? 0n : BigInt(spans.find((s) => Number(s.start) === min)!.start);
  return {
    traceId,
    nodes,
    roots: nodes.filter((n) => n.parent === -1).map((n) => n.index),
    startUnixNano: traceStart + minExact,
    traceStartUnixNano: traceStart,
    durationNs: end,
    byId,
    orphans: nodes.filter((n) => n.missingParent !== undefined).length,
    services: [...new Set(nodes.map((n) => n.service))].sort(),
    resources,
    scopes,
  };
}

/**
 * The rows the waterfall shows: preorder, skipping the subtrees of collapsed nodes. O(visible) thanks to the
 * subtree sizes: a collapsed node's descendants are skipped in one step.
 */
export function visibleRows(tree: SpanTree, collapsed: ReadonlySet<number>): number[] {
  const out: number[] = [];
  const n = tree.nodes.length;
  for (let i = 0; i < n; ) {
    out.push(i);
    i += collapsed.has(i) ? tree.nodes[i]!.size : 1;
  }
  return out;
}

/** Ancestors of a node, nearest first. */
export function ancestors(tree: SpanTree, index: number): number[] {
  const out: number[] = [];
  for (let p = tree.nodes[index]?.parent ?? -1; p >= 0; p = tree.nodes[p]!.parent) out.push(p);
  return out;
}

/** Case-insensitive matches of `q` in a span's name, service, ids, status message, attribute keys and values. */
export function searchSpans(tree: SpanTree, q: string): number[] {
  const needle = q.trim().toLowerCase();
  if (needle === '') return [];
  const has = (s: string) => s.toLowerCase().includes(needle);
  const out: number[] = [];
  for (const n of tree.nodes) {
    const s = n.span;
    if (has(s.name) || has(n.service) || s.spanId === needle || has(s.status?.message ?? '') || Object.entries(s.attributes).some(([k, v]) => has(k) || has(v))) {
      out.push(n.index);
    }
  }
  return out;
}

/** The node the critical path starts from: the longest true root (empty parent id), else the longest root. */
export function mainRoot(tree: SpanTree): number | undefined {
  let best: number | undefined;
  for (const r of tree.roots) {
    const n = tree.nodes[r]!;
    if (n.span.parentSpanId !== '' || n.cycle) continue;
    if (best === undefined || n.endNs - n.startNs > tree.nodes[best]!.endNs - tree.nodes[best]!.startNs) best = r;
  }
  if (best !== undefined) return best;
  for (const r of tree.roots) if (best === undefined || tree.nodes[r]!.endNs - tree.nodes[r]!.startNs > tree.nodes[best]!.endNs - tree.nodes[best]!.startNs) best = r;
  return best;
}
