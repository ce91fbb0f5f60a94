// Sizes as people write them for memory limits: bytes, or a number with K, M or G
// (powers of 1024, as PM2's --max-memory-restart and Kubernetes' Ki/Mi/Gi mean).
const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** Bytes, or undefined when `text` is not a size (`512M`, `1.5G`, `300000000`, `256Mi`). */
export function parseSize(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b?)\s*$/i.exec(text);
  if (!match) return undefined;
  const bytes = Math.round(Number(match[1]) * UNITS[match[2].toLowerCase()]);
  return bytes > 0 ? bytes : undefined;
}
