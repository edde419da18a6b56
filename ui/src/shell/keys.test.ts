import { describe, expect, it } from 'vitest';
import { type KeyAction, type KeyState, SEQUENCE_MS, onKey } from './keys.ts';

const key = (k: string, p: { ctrl?: boolean; inField?: boolean } = {}) => ({ key: k, ctrlKey: p.ctrl ?? false, metaKey: false, altKey: false, inField: p.inField ?? false });

/** Presses keys at the given times from an empty state; returns the actions. */
function press(seq: [string, number, { ctrl?: boolean; inField?: boolean }?][]): (KeyAction | undefined)[] {
  let state: KeyState = {};
  return seq.map(([k, t, p]) => {
    const r = onKey(state, key(k, p), t);
    state = r.state;
    return r.action;
  });
}

describe('onKey', () => {
  it.each<[string, [string, number, { ctrl?: boolean; inField?: boolean }?][], (KeyAction | undefined)[]]>([
    ['g s goes to services', [['g', 0], ['s', 300]], [undefined, { kind: 'go', key: 's' }]],
    ['g then too late is just s', [['g', 0], ['s', SEQUENCE_MS + 1]], [undefined, undefined]],
    ['/ focuses search', [['/', 0]], [{ kind: 'search' }]],
    ['? shows help', [['?', 0]], [{ kind: 'help' }]],
    ['r refreshes', [['r', 0]], [{ kind: 'refresh' }]],
    ['typing in a field is never a shortcut', [['g', 0, { inField: true }], ['s', 10, { inField: true }], ['/', 20, { inField: true }]], [undefined, undefined, undefined]],
    ['Escape works in a field', [['Escape', 0, { inField: true }]], [{ kind: 'escape' }]],
    ['with Ctrl it is the browser’s', [['r', 0, { ctrl: true }]], [undefined]],
    ['a sequence is interrupted by a modifier', [['g', 0], ['s', 10, { ctrl: true }], ['s', 20]], [undefined, undefined, undefined]],
  ])('%s', (_what, seq, actions) => expect(press(seq)).toEqual(actions));
});
