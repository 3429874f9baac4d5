// OpenTelemetry tracing through Temporal's own interceptors (@temporalio/interceptors-opentelemetry): spans for
// workflow runs, signals, activity starts (workflow side, exported through a sink that is not called during replay,
// so a replayed workflow emits no duplicate spans) and activity executions. Off unless OTEL_EXPORTER_OTLP_ENDPOINT is
// set; then spans go to that OTLP/HTTP collector.
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OpenTelemetryPlugin } from '@temporalio/interceptors-opentelemetry';
import type { PlatformConfig } from '../domain/config.ts';

export interface Tracing {
  plugin: OpenTelemetryPlugin;
  shutdown(): Promise<void>;
}

/** Tracing into the given span processor (tests pass an in-memory one). */
export function createTracing(spanProcessor: SpanProcessor, serviceName: string): Tracing {
  const resource = new Resource({ 'service.name': serviceName });
  const provider = new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  const plugin = new OpenTelemetryPlugin({
    resource,
    spanProcessor,
    tracer: provider.getTracer('temporal-managed-agents'),
  });
  return { plugin, shutdown: () => provider.shutdown() };
}

export function tracingFromConfig(config: PlatformConfig, serviceName: string): Tracing | undefined {
  if (!config.OTEL_EXPORTER_OTLP_ENDPOINT) return undefined;
  const exporter = new OTLPTraceExporter({ url: `${config.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/$/, '')}/v1/traces` });
  return createTracing(new BatchSpanProcessor(exporter), serviceName);
}
