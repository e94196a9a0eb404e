/** A Prometheus histogram read from relaygate's /metrics: cumulative counts per upper bound, +Inf last. */
export interface HistogramSnapshot {
  bounds: number[];
  cumulative: number[];
}

/** Reads histogram `name` from the metrics listener on 127.0.0.1:`port`. */
export async function scrapeHistogram(port: number, name: string): Promise<HistogramSnapshot> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  if (!response.ok) throw new Error(`metrics on port ${port}: HTTP ${response.status}`);
  const bucket = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+)$`);
  const snapshot: HistogramSnapshot = { bounds: [], cumulative: [] };
  for (const line of (await response.text()).split('\n')) {
    const match = bucket.exec(line);
    if (!match) continue;
    snapshot.bounds.push(match[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(match[1]));
    snapshot.cumulative.push(Number(match[2]));
  }
  if (snapshot.bounds.length === 0) throw new Error(`metrics on port ${port}: no histogram ${name}`);
  return snapshot;
}

/** Bucket by bucket, `a` plus `sign` times `b` (the same histogram of another node, or of an earlier moment). */
export function combineHistograms(a: HistogramSnapshot, b: HistogramSnapshot, sign: 1 | -1): HistogramSnapshot {
  return { bounds: a.bounds, cumulative: a.cumulative.map((count, index) => count + sign * (b.cumulative[index] ?? 0)) };
}

export function observations(histogram: HistogramSnapshot): number {
  return histogram.cumulative.at(-1) ?? 0;
}

/**
 * The q-quantile, interpolated linearly within its bucket as Prometheus's histogram_quantile does; null without
 * observations. In the +Inf bucket it is the highest finite bound (a lower bound of the truth).
 */
export function histogramQuantile(histogram: HistogramSnapshot, q: number): number | null {
  const total = observations(histogram);
  if (total === 0) return null;
  const rank = q * total;
  const index = histogram.cumulative.findIndex((count) => count >= rank);
  const upper = histogram.bounds[index] as number;
  const lower = index === 0 ? 0 : (histogram.bounds[index - 1] as number);
  if (upper === Number.POSITIVE_INFINITY) return lower;
  const below = index === 0 ? 0 : (histogram.cumulative[index - 1] as number);
  const inBucket = (histogram.cumulative[index] as number) - below;
  return lower + (upper - lower) * (inBucket === 0 ? 1 : (rank - below) / inBucket);
}
