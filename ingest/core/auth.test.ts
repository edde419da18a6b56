import { describe, expect, it } from 'vitest';
import { authEnabled, tokenMatches } from './auth.ts';

describe('tokenMatches', () => {
  const tokens = ['alpha', 'beta-2'];
  it('accepts any configured token as a Bearer credential, scheme case-insensitive', () => {
    expect(tokenMatches('Bearer alpha', tokens)).toBe(true);
    expect(tokenMatches('bearer beta-2', tokens)).toBe(true);
  });
  it.each([undefined, '', 'alpha', 'Basic alpha', 'Bearer alph', 'Bearer alphaa', 'Bearer ', 'Bearer alpha extra'])('rejects %j', (h) => {
    expect(tokenMatches(h, tokens)).toBe(false);
  });
  it('is off without tokens', () => {
    expect(authEnabled(undefined)).toBe(false);
    expect(authEnabled([])).toBe(false);
    expect(authEnabled(['a'])).toBe(true);
  });
});
