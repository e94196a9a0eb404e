/** A configuration problem, reported with the option's path so the operator knows what to fix. */
export class ConfigError extends Error {
  constructor(
    readonly option: string,
    problem: string,
  ) {
    super(`configuration option ${option}: ${problem}`);
    this.name = 'ConfigError';
  }
}
