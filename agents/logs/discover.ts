/**
 * Which files to tail, and what their path says.
 *
 * Globs (`*`, `?`, `**`, `{a,b}`, `[abc]`) are matched segment by segment while walking directories, so only the
 * directories a pattern can reach are read. A file matches when its *canonical* name does: the name with a
 * rotation suffix removed (kubelet's `0.log.20240102-030405`, Docker's and logrotate's `.1`, `-json.log.2`), so
 * `--tail '/var/log/pods/*\/*\/*.log'` also finds the rotated files a container's log was renamed into, which the
 * agent must read to their end. Compressed rotations (`.gz`, …) are never read: the runtime compresses only files
 * it has finished with, long after rotation.
 *
 * A chain is every file with one canonical path: one container's log over its rotations.
 *
 * Paths in kubelet's layout, `<root>/<namespace>_<pod>_<uid>/<container>/<restart>.log`, give the pod's resource
 * attributes in OpenTelemetry's Kubernetes names (namespace and pod names cannot hold `_`, so the split is exact).
 * Docker's `<root>/containers/<id>/<id>-json.log` gives `container.id`.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const ROTATED = /\.(\d{8}-\d{6}|\d+)$/;
const COMPRESSED = /\.(gz|zst|bz2|xz|lz4|zip|tmp)$/;

/** `0.log.20240102-030405` → `0.log`; undefined for compressed or temporary files. */
export function canonicalName(name: string): string | undefined {
  if (COMPRESSED.test(name)) return undefined;
  return name.replace(ROTATED, '');
}

export function isRotatedName(name: string): boolean {
  return !COMPRESSED.test(name) && ROTATED.test(name);
}

function expandBraces(glob: string): string[] {
  const m = /\{([^{}]*)\}/.exec(glob);
  return m ? m[1]!.split(',').flatMap((alt) => expandBraces(glob.slice(0, m.index) + alt + glob.slice(m.index + m[0].length))) : [glob];
}

function segmentRegex(seg: string): RegExp {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = seg.indexOf(']', i + 1);
      if (close === -1) re += '\\[';
      else {
        const body = seg.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

const isMagic = (seg: string) => /[*?[]/.test(seg);

function list(dir: string): { name: string; dir: boolean; file: boolean }[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).map((d) => {
      let isDir = d.isDirectory();
      let isFile = d.isFile();
      if (d.isSymbolicLink()) {
        // kubelet links Docker's container logs into /var/log/pods: follow links.
        try {
          const st = statSync(join(dir, d.name));
          isDir = st.isDirectory();
          isFile = st.isFile();
        } catch {
          isDir = isFile = false;
        }
      }
      return { name: d.name, dir: isDir, file: isFile };
    });
  } catch {
    return [];
  }
}

function walk(dir: string, segs: string[], out: Set<string>, depth: number): void {
  if (depth > 32) return;
  if (segs.length === 0) return;
  const [seg, ...rest] = segs as [string, ...string[]];
  if (seg === '**') {
    walk(dir, rest, out, depth + 1);
    for (const e of list(dir)) if (e.dir) walk(join(dir, e.name), segs, out, depth + 1);
    return;
  }
  const last = rest.length === 0;
  if (!isMagic(seg) && !last) {
    walk(join(dir, seg), rest, out, depth + 1);
    return;
  }
  const re = segmentRegex(seg);
  for (const e of list(dir)) {
    if (last) {
      const canonical = e.file ? canonicalName(e.name) : undefined;
      if (canonical !== undefined && (re.test(canonical) || re.test(e.name))) out.add(join(dir, e.name));
    } else if (e.dir && re.test(e.name)) walk(join(dir, e.name), rest, out, depth + 1);
  }
}

/** Every file matching one of `globs` (absolute patterns), rotated siblings included. */
export function findFiles(globs: readonly string[]): string[] {
  const out = new Set<string>();
  for (const g of globs) {
    for (const pattern of expandBraces(g)) {
      if (!pattern.startsWith('/')) throw new Error(`tail pattern must be an absolute path: ${pattern}`);
      walk('/', pattern.split('/').filter((s) => s !== ''), out, 0);
    }
  }
  return [...out].sort();
}

/** The chain a file belongs to: its directory and canonical name. */
export function chainKey(path: string): string | undefined {
  const c = canonicalName(basename(path));
  return c === undefined ? undefined : join(dirname(path), c);
}

export interface PathInfo {
  namespace: string;
  pod: string;
  uid: string;
  container: string;
  restart: string;
}

const POD_PATH = /\/([^/_]+)_([^/_]+)_([^/_]+)\/([^/]+)\/(\d+)\.log$/;

/** Pod and container of a kubelet-layout path (canonical), undefined otherwise. */
export function podOfPath(canonicalPath: string): PathInfo | undefined {
  const m = POD_PATH.exec(canonicalPath);
  if (!m) return undefined;
  return { namespace: m[1]!, pod: m[2]!, uid: m[3]!, container: m[4]!, restart: m[5]! };
}

const DOCKER_PATH = /\/containers\/([0-9a-f]{12,64})\/\1-json\.log$/;

export function dockerContainerOfPath(canonicalPath: string): string | undefined {
  return DOCKER_PATH.exec(canonicalPath)?.[1];
}
