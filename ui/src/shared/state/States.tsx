/**
 * Loading, empty and error states that say what to do next. An empty platform gets the OTLP endpoint and a
 * command that sends a span; an error says whether to sign in, narrow the range or start the platform.
 */
import { useQueryClient } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';
import { ApiError, getToken, setToken } from '../api/client.ts';

export function Loading({ what }: { what: string }) {
  return (
    <div className="state loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> Loading {what}…
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state empty" role="status">
      <h2>{title}</h2>
      {children}
    </div>
  );
}

function TokenForm() {
  const client = useQueryClient();
  const [value, setValue] = useState(getToken() ?? '');
  return (
    <form
      className="token-form"
      onSubmit={(e) => {
        e.preventDefault();
        setToken(value.trim());
        void client.invalidateQueries();
      }}
    >
      <label>
        Bearer token <input type="password" value={value} onChange={(e) => setValue(e.target.value)} autoComplete="off" />
      </label>
      <button type="submit" className="btn primary">
        Use token
      </button>
    </form>
  );
}

export function ErrorState({ error, what, retry }: { error: unknown; what: string; retry?: () => void }) {
  const e = error instanceof ApiError ? error : undefined;
  let next: ReactNode;
  if (e?.code === 'UNAUTHORIZED') {
    next = (
      <>
        <p>This Crow&apos;s Nest requires a token (it was started with <code>--auth-token</code>). Enter one of its tokens:</p>
        <TokenForm />
      </>
    );
  } else if (e?.code === 'NETWORK') {
    next = <p>Is Crow&apos;s Nest running? Start it with <code>npm start</code> (or <code>npx crowsnest start</code>), then retry.</p>;
  } else if (e?.status === 503) {
    next = <p>The store is busy or the query took too long. Narrow the time range or the filters, then retry.</p>;
  } else if (e?.status === 400) {
    next = <p>A parameter of this view was refused; the message names it. Fix it in the URL or reset the filters.</p>;
  } else {
    next = <p>Retry; if it keeps failing, the server log has the details under the request id.</p>;
  }
  return (
    <div className="state error" role="alert">
      <h2>Could not load {what}</h2>
      <p className="error-message">
        {e ? <code>{e.code}</code> : null} {error instanceof Error ? error.message : String(error)}
      </p>
      {next}
      {retry && e?.code !== 'UNAUTHORIZED' && (
        <button type="button" className="btn" onClick={retry}>
          Retry
        </button>
      )}
    </div>
  );
}

/** What an empty platform shows: where to send telemetry. */
export function SendDataHelp() {
  const host = location.hostname === '' ? '127.0.0.1' : location.hostname;
  const http = `http://${host}:4318`;
  const curl = `curl -s ${http}/v1/traces -H 'content-type: application/json' -d '{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"hello"}}]},"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"GET /hello","kind":2,"startTimeUnixNano":"'$(date +%s)000000000'","endTimeUnixNano":"'$(date +%s)050000000'"}]}]}]}'`;
  return (
    <Empty title="No telemetry has arrived yet">
      <p>Crow&apos;s Nest is running and waiting for OpenTelemetry data. Point any OpenTelemetry SDK or Collector at it:</p>
      <dl className="endpoints">
        <dt>OTLP/HTTP</dt>
        <dd>
          <code data-testid="otlp-endpoint">{http}</code> (protobuf or JSON; <code>/v1/traces</code>, <code>/v1/logs</code>, <code>/v1/metrics</code>)
        </dd>
        <dt>OTLP/gRPC</dt>
        <dd>
          <code>{host}:4317</code>
        </dd>
      </dl>
      <pre className="snippet">export OTEL_EXPORTER_OTLP_ENDPOINT={http}</pre>
      <p>Or send one span by hand:</p>
      <pre className="snippet">{curl}</pre>
      <p className="hint">
        These are the default ports; a platform started with <code>--otlp-http-port</code> / <code>--otlp-grpc-port</code> listens where those say.
        Data shows here within a second of being acknowledged.
      </p>
    </Empty>
  );
}
