/**
 * Prometheus metrics. Every server (and every test) gets its own Registry: prom-client's global
 * default registry would make a second app in the same process fail with "already registered"
 * and would leak counts between tests.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type { Registry } from 'prom-client';

export interface MetricsRegistryOptions {
  /** Process metrics (CPU, memory, event loop lag, GC). On by default. */
  readonly processMetrics?: boolean;
}

export function createMetricsRegistry(options: MetricsRegistryOptions = {}): Registry {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  return registry;
}

type HttpLabel = 'method' | 'route' | 'status';

export interface HttpMetrics {
  readonly requests: Counter<HttpLabel>;
  readonly duration: Histogram<HttpLabel>;
  /** `route` is the matched pattern ("/api/v1/tenants/:tenant"), never the raw path: bounded cardinality. */
  observe(sample: { method: string; route: string; status: number; seconds: number }): void;
}

export function createHttpMetrics(registry: Registry): HttpMetrics {
  const requests = new Counter<HttpLabel>({
    name: 'ledgerline_http_requests_total',
    help: 'HTTP requests handled, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new Histogram<HttpLabel>({
    name: 'ledgerline_http_request_duration_seconds',
    help: 'HTTP request duration in seconds, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return {
    requests,
    duration,
    observe({ method, route, status, seconds }) {
      const labels = { method, route, status: String(status) };
      requests.inc(labels);
      duration.observe(labels, seconds);
    },
  };
}
