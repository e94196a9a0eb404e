import { UsageError } from '../../src/cli/cli-context.js';
import { parseFuzzOptions, USAGE, type FuzzCliOptions } from './fuzz-options.js';
import { formatFuzzReport } from './fuzz-report.js';
import { failed, runFuzz } from './fuzz-run.js';

const progress = (line: string) => process.stderr.write(`fuzz: ${line}\n`);

async function main(argv: string[]): Promise<number> {
  let options: FuzzCliOptions | 'help';
  try {
    options = parseFuzzOptions(argv);
  } catch (error) {
    // parseArgs reports unknown options and missing values with a TypeError.
    if (!(error instanceof UsageError || error instanceof TypeError)) throw error;
    process.stderr.write(`fuzz: ${error.message}\n${USAGE}\n`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const replaying = options.session !== null;
  progress(replaying ? `replaying session ${options.session}` : `seed ${options.seed}, ${options.lines} lines, ${options.concurrency} sessions at a time`);
  // Ctrl-C stops starting sessions; those in flight end, and the result so far is printed.
  const stop = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      progress(`${signal}: finishing the sessions in flight`);
      stop.abort();
    });
  }
  try {
    const result = await runFuzz({
      seed: options.session ?? options.seed,
      lines: options.lines,
      concurrency: options.concurrency,
      deadlineMs: options.deadlineSeconds * 1000,
      drainTimeoutMs: options.drainTimeoutSeconds * 1000,
      progress,
      replay: replaying ? (line) => process.stdout.write(`${line}\n`) : undefined,
      signal: stop.signal,
      keepGoing: options.keepGoing,
    });
    process.stdout.write(`${options.json ? JSON.stringify(result, null, 2) : formatFuzzReport(result)}\n`);
    return failed(result) || stop.signal.aborted ? 1 : 0;
  } catch (error) {
    progress(`failed: ${(error as Error).message}`);
    return 1;
  }
}

// Exit explicitly: sockets of sessions cut short may still be open.
process.exit(await main(process.argv.slice(2)));
