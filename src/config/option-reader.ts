import { ConfigError } from './config-error.js';

type Plain = Record<string, unknown>;

/**
 * Reads one section of the raw configuration, checking each option's type and rejecting options
 * it does not know, so a misspelt option is an error rather than a silently ignored line.
 */
export class OptionReader {
  private readonly seen = new Set<string>();

  constructor(
    private readonly section: Plain,
    private readonly path: string,
  ) {}

  static of(value: unknown, path: string): OptionReader {
    if (value === undefined || value === null) return new OptionReader({}, path);
    if (typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(path || '(top level)', 'must be a mapping of options');
    return new OptionReader(value as Plain, path);
  }

  name(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }

  raw(key: string): unknown {
    this.seen.add(key);
    return this.section[key];
  }

  string(key: string, fallback: string): string {
    const value = this.raw(key);
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'string' || value.trim() === '') throw new ConfigError(this.name(key), 'must be a non-empty string');
    return value;
  }

  optionalString(key: string): string | null {
    const value = this.raw(key);
    if (value === undefined || value === null) return null;
    if (typeof value !== 'string' || value.trim() === '') throw new ConfigError(this.name(key), 'must be a non-empty string');
    return value;
  }

  integer(key: string, fallback: number, min: number, max: number): number {
    const value = this.raw(key);
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value)) throw new ConfigError(this.name(key), `must be a whole number, got ${JSON.stringify(value)}`);
    if (value < min || value > max) throw new ConfigError(this.name(key), `must be between ${min} and ${max}, got ${value}`);
    return value;
  }

  number(key: string, fallback: number, min: number, max: number): number {
    const value = this.raw(key);
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new ConfigError(this.name(key), `must be a number, got ${JSON.stringify(value)}`);
    if (value < min || value > max) throw new ConfigError(this.name(key), `must be between ${min} and ${max}, got ${value}`);
    return value;
  }

  boolean(key: string, fallback: boolean): boolean {
    const value = this.raw(key);
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'boolean') throw new ConfigError(this.name(key), `must be true or false, got ${JSON.stringify(value)}`);
    return value;
  }

  oneOf<T extends string>(key: string, fallback: T, allowed: readonly T[]): T {
    const value = this.raw(key);
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      throw new ConfigError(this.name(key), `must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
    }
    return value as T;
  }

  stringList(key: string, fallback: string[]): string[] {
    const value = this.raw(key);
    if (value === undefined || value === null) return fallback;
    if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) throw new ConfigError(this.name(key), 'must be a list of strings');
    return value as string[];
  }

  list(key: string): unknown[] | undefined {
    const value = this.raw(key);
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) throw new ConfigError(this.name(key), 'must be a list');
    return value;
  }

  child(key: string): OptionReader {
    return OptionReader.of(this.raw(key), this.name(key));
  }

  /** Keys of a free-form mapping (e.g. hostnames), marking the mapping itself as known. */
  mapping(key: string): Array<[string, OptionReader]> {
    const reader = this.child(key);
    return Object.keys(reader.section).map((entry) => [entry, reader.child(entry)]);
  }

  /** Call last: any option present but never read is unknown. */
  rejectUnknown(): void {
    for (const key of Object.keys(this.section)) {
      if (!this.seen.has(key)) throw new ConfigError(this.name(key), 'unknown option');
    }
  }
}
