/** Prometheus text exposition (version 0.0.4), written by hand: counters, gauges read at scrape time, histograms. */

type Labels = Record<string, string>;

const escapeLabel = (value: string) => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const labelText = (labels: Labels) => {
  const entries = Object.entries(labels);
  return entries.length === 0 ? '' : `{${entries.map(([name, value]) => `${name}="${escapeLabel(value)}"`).join(',')}}`;
};
const keyOf = (labels: Labels) => JSON.stringify(Object.entries(labels).sort());

interface Metric {
  render(): string;
}

export class Counter implements Metric {
  private readonly values = new Map<string, { labels: Labels; value: number }>();

  constructor(
    readonly name: string,
    private readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = keyOf(labels);
    const entry = this.values.get(key);
    if (entry) entry.value += by;
    else this.values.set(key, { labels, value: by });
  }

  render(): string {
    const lines = [...this.values.values()].map(({ labels, value }) => `${this.name}${labelText(labels)} ${value}`);
    return `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} counter\n${lines.join('\n')}${lines.length ? '\n' : ''}`;
  }
}

/** A gauge whose samples are read when scraped. */
export class CallbackGauge implements Metric {
  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly read: () => Array<{ labels: Labels; value: number }>,
  ) {}

  render(): string {
    const lines = this.read().map(({ labels, value }) => `${this.name}${labelText(labels)} ${value}`);
    return `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} gauge\n${lines.join('\n')}${lines.length ? '\n' : ''}`;
  }
}

export class Histogram implements Metric {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly buckets: readonly number[],
  ) {
    this.counts = buckets.map(() => 0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count += 1;
    this.buckets.forEach((bound, index) => {
      if (value <= bound) this.counts[index] = (this.counts[index] ?? 0) + 1;
    });
  }

  render(): string {
    const lines = this.buckets.map((bound, index) => `${this.name}_bucket{le="${bound}"} ${this.counts[index]}`);
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.count}`, `${this.name}_sum ${this.sum}`, `${this.name}_count ${this.count}`);
    return `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} histogram\n${lines.join('\n')}\n`;
  }
}

export class MetricsRegistry {
  private readonly metrics: Metric[] = [];

  register<T extends Metric>(metric: T): T {
    this.metrics.push(metric);
    return metric;
  }

  render(): string {
    return this.metrics.map((metric) => metric.render()).join('');
  }
}
