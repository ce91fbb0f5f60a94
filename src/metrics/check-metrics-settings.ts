// Startup checks of the metrics settings, so a typo stops corral at once with
// one line instead of silently sending nowhere.
// Each check loads its module only when its setting is given: a server without metrics never loads them.
export async function checkMetricsSettings(settings: { statsdHost: string | null; metricsBind: string | null; healthBind?: string | null }): Promise<void> {
  if (settings.metricsBind) (await import('./metrics-server.js')).parseMetricsBind(settings.metricsBind);
  if (settings.healthBind) (await import('./metrics-server.js')).parseHealthBind(settings.healthBind);
  if (settings.statsdHost) await (await import('./statsd-address.js')).resolveStatsdAddress(settings.statsdHost);
}
