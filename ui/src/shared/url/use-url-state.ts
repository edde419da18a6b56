/** A page's URL state (./state.ts) as a React hook over react-router's search params. */
import { useCallback, useMemo } from 'react';
import { useSearchParams } from 'react-router';
import { type Schema, type StateOf, readState, writeState } from './state.ts';

/**
 * The page's state and a setter. `replace` for changes as you type (a filter box), so Back goes to the previous
 * view rather than the previous keystroke; discrete changes (a sort, a selection) push a history entry.
 */
export function useUrlState<S extends Schema>(schema: S): [StateOf<S>, (patch: Partial<StateOf<S>>, opts?: { replace?: boolean }) => void] {
  const [params, setParams] = useSearchParams();
  const state = useMemo(() => readState(schema, params), [schema, params]);
  const set = useCallback(
    (patch: Partial<StateOf<S>>, opts: { replace?: boolean } = {}) => {
      setParams((prev) => writeState(schema, prev, patch), { replace: opts.replace ?? false });
    },
    [schema, setParams],
  );
  return [state, set];
}
