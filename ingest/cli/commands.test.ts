import { describe, expect, it } from 'vitest';
import { COMMANDS, ROLES } from './commands.ts';

describe('commands', () => {
  it.each(ROLES.map((r) => [r.name, r] as const))('the head of role %s (name, options) is what its module declares', async (_, head) => {
    const role = await head.load();
    expect(role.name).toBe(head.name);
    expect(Object.keys(role.options).sort()).toEqual(Object.keys(head.options).sort());
    expect(role.options).toEqual(head.options);
  });

  it('runs only roles it knows by their heads', () => {
    const known = new Set(ROLES);
    for (const [name, command] of Object.entries(COMMANDS)) {
      for (const config of [{}, { kafkaBrokers: ['127.0.0.1:9092'] }, { kafkaBrokers: ['127.0.0.1:9092'], clickhouseUrl: 'http://127.0.0.1:8123' }, { clickhouseUrl: 'http://127.0.0.1:8123' }]) {
        let roles: readonly unknown[];
        try {
          roles = command.roles(config);
        } catch {
          continue; // a combination the command refuses (tested in roles.int.test.ts)
        }
        for (const r of roles) expect(known.has(r as never), `${name}`).toBe(true);
      }
    }
  });
});
