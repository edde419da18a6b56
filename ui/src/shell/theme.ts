/** Light and dark themes: CSS variables under `html[data-theme]`; the choice is this browser's, not the link's. */
import { useCallback, useState } from 'react';

export type Theme = 'light' | 'dark';
const KEY = 'crowsnest.theme';

export function currentTheme(): Theme {
  return document.documentElement.dataset['theme'] === 'dark' ? 'dark' : 'light';
}

export function useTheme(): [Theme, () => void] {
  const [theme, setTheme] = useState<Theme>(currentTheme);
  const toggle = useCallback(() => {
    const next: Theme = currentTheme() === 'dark' ? 'light' : 'dark';
    document.documentElement.dataset['theme'] = next;
    try {
      localStorage.setItem(KEY, next);
    } catch {
      // private mode: the theme lasts for this page only
    }
    setTheme(next);
  }, []);
  return [theme, toggle];
}
