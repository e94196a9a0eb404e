import { UsageError } from '../src/cli/cli-context.js';
import { runWithTeardown, type Teardown } from './teardown.js';

/** A benchmark run from the command line: options, a run that starts what it needs, and a report. */
export interface BenchCommand<Options extends { json: boolean; timeoutSeconds: number }, Report extends { problems: string[] }> {
  /** Prefix of its progress lines and errors on stderr. */
  name: string;
  usage: string;
  parse(argv: string[]): Options | 'help';
  /** Everything it starts is registered with the teardown. */
  run(options: Options, teardown: Teardown): Promise<Report>;
  format(report: Report): string;
}

/**
 * Parses the options, runs the benchmark with its teardown, prints the report (as JSON with --json) on stdout and
 * returns the exit code: 0, 1 when the report lists problems or the run failed, 2 for a usage error.
 */
export async function runBenchCommand<Options extends { json: boolean; timeoutSeconds: number }, Report extends { problems: string[] }>(
  command: BenchCommand<Options, Report>,
  argv: string[],
): Promise<number> {
  const progress = (line: string) => process.stderr.write(`${command.name}: ${line}\n`);
  let options: Options | 'help';
  try {
    options = command.parse(argv);
  } catch (error) {
    // parseArgs reports unknown options and missing values with a TypeError.
    if (!(error instanceof UsageError || error instanceof TypeError)) throw error;
    process.stderr.write(`${command.name}: ${error.message}\n${command.usage}\n`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  const chosen = options;
  try {
    const report = await runWithTeardown((teardown) => command.run(chosen, teardown), chosen.timeoutSeconds, progress);
    process.stdout.write(`${chosen.json ? JSON.stringify(report, null, 2) : command.format(report)}\n`);
    if (report.problems.length > 0) progress(`failed: ${report.problems.length} problem(s), listed in the report`);
    return report.problems.length > 0 ? 1 : 0;
  } catch (error) {
    progress(`failed: ${(error as Error).message}`);
    return 1;
  }
}
