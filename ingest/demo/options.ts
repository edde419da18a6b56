/**
 * The demo's options, declared like every role's (#config/spec.ts) so flags, `CROWSNEST_*` variables and the
 * config file work the same. Kept apart from the demo's code: the CLI imports this small module to know the
 * options, and loads the SDK and the simulation only when the demo runs (run.ts, by dynamic import), so no other
 * command or role pays for them.
 */
import type { ConfigSpec } from '#config/spec.ts';

/** `crowsnest demo`: where to send, how much. */
export const DEMO = {
  otlpEndpoint: {
    type: 'string',
    default: 'http://127.0.0.1:4318',
    doc: 'OTLP/HTTP endpoint the demo\'s SDKs export to (base URL; /v1/traces, /v1/logs and /v1/metrics are appended).',
  },
  otlpToken: {
    type: 'string',
    secret: true,
    doc: 'Bearer token sent with every export (one of the platform\'s --auth-token values). Unset: no Authorization header.',
  },
  rate: {
    type: 'int',
    default: 3,
    min: 1,
    max: 1000,
    doc: 'Requests per second into the simulated shop\'s frontend, on average (each request makes 4 to 19 spans, about 7 on average); the load rises and falls by 40 % over 17 minutes.',
  },
} as const satisfies ConfigSpec;

/** `crowsnest start --demo`: the demo in the platform's own process, sending to its own OTLP/HTTP port. */
export const DEMO_START = {
  demo: {
    type: 'bool',
    default: false,
    doc: 'Once the receivers listen, also run the demo (`crowsnest demo`) in this process: a simulated shop of 7 services on Kubernetes sends traces, logs and metrics to this platform\'s own OTLP/HTTP port.',
  },
  demoRate: { type: 'int', default: 3, min: 1, max: 1000, doc: 'With --demo: requests per second of the demo (as `crowsnest demo --rate`).' },
} as const satisfies ConfigSpec;

/** Why `url` cannot be an OTLP/HTTP endpoint, or undefined when it can. */
export function endpointProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `--otlp-endpoint must be a URL such as http://127.0.0.1:4318, got "${url}"`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `--otlp-endpoint must be http(s), got ${u.protocol}`;
  if (u.search !== '' || u.hash !== '') return '--otlp-endpoint is a base URL: no query or fragment';
  return undefined;
}
