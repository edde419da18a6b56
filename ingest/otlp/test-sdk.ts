/** Test helpers around the official OpenTelemetry JS SDK. */

/**
 * OTLP span attributes may be any AnyValue (bytes, maps, nulls), and newer SDKs send them; the 2.x SDK's
 * `setAttributes` keeps only primitives and arrays of them. Writing into the span's attribute map puts every
 * AnyValue kind through the official serializer anyway.
 */
export function setAnyValueAttributes(span: unknown, attributes: Record<string, unknown>): void {
  Object.assign((span as { attributes: Record<string, unknown> }).attributes, attributes);
}
