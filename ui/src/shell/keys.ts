/**
 * Keyboard shortcuts: two-key sequences (`g s`: go to services) and single keys (`/`: focus the page's search,
 * `?`: list the shortcuts, `r`: refresh), matched by a small pure state machine so the rules are tested in a
 * table. Keys typed into inputs are never shortcuts.
 */

export interface Shortcut {
  keys: string;
  description: string;
}

export interface KeyState {
  /** The first key of a sequence and when it was pressed. */
  pending?: { key: string; atMs: number };
}

/** How long the second key of a sequence may follow the first. */
export const SEQUENCE_MS = 1500;

export type KeyAction = { kind: 'go'; key: string } | { kind: 'search' } | { kind: 'help' } | { kind: 'refresh' } | { kind: 'escape' };

export interface KeyEventLike {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  /** The event target is a text field, select or editable element. */
  inField: boolean;
}

/** The next state and the action a key press triggers (if any). */
export function onKey(state: KeyState, e: KeyEventLike, nowMs: number): { state: KeyState; action?: KeyAction } {
  if (e.key === 'Escape') return { state: {}, action: { kind: 'escape' } };
  if (e.ctrlKey || e.metaKey || e.altKey || e.inField) return { state: {} };
  const pending = state.pending !== undefined && nowMs - state.pending.atMs <= SEQUENCE_MS ? state.pending : undefined;
  if (pending?.key === 'g') return { state: {}, action: { kind: 'go', key: e.key } };
  switch (e.key) {
    case 'g':
      return { state: { pending: { key: 'g', atMs: nowMs } } };
    case '/':
      return { state: {}, action: { kind: 'search' } };
    case '?':
      return { state: {}, action: { kind: 'help' } };
    case 'r':
      return { state: {}, action: { kind: 'refresh' } };
    default:
      return { state: {} };
  }
}

export const GLOBAL_SHORTCUTS: readonly Shortcut[] = [
  { keys: '/', description: 'Focus the search or filter of the page' },
  { keys: 'r', description: 'Refresh the data now' },
  { keys: '↑ ↓', description: 'Move between rows of a table; Enter opens one' },
  { keys: '?', description: 'Show or hide these shortcuts' },
  { keys: 'Esc', description: 'Close this panel, leave a field' },
];
