// Startup checks of the metrics settings, so a typo stops corral at once with
// one line instead of silently sending nowhere.
import { parseHealthBind, parseMetricsBind } from './metrics-server.js';
import { resolveStatsdAddress } from './statsd-address.js';

export async function checkMetricsSettings(settings: { statsdHost: string | null; metricsBind: string | null; healthBind?: string | null }): Promise<void> {
  if (settings.metricsBind) parseMetricsBind(settings.metricsBind);
  if (settings.healthBind) parseHealthBind(settings.healthBind);
  if (settings.statsdHost) await resolveStatsdAddress(settings.statsdHost);
}
