/**
 * What the bench started, stopped in reverse order at the end, whether the run succeeded, failed or timed out. A
 * failing step is reported and does not keep the others from running.
 */
export class Teardown {
  private readonly steps: Array<{ what: string; action: () => Promise<void> | void }> = [];

  add(what: string, action: () => Promise<void> | void): void {
    this.steps.push({ what, action });
  }

  async run(report: (line: string) => void): Promise<void> {
    for (const { what, action } of this.steps.splice(0).reverse()) {
      try {
        await action();
      } catch (error) {
        report(`could not ${what}: ${(error as Error).message}`);
      }
    }
  }
}

/**
 * Runs `work` and then its teardown, whatever happens: it succeeds, fails, outlasts `timeoutSeconds`, or SIGINT or
 * SIGTERM (Ctrl-C) comes. A timeout or signal fails the call at once; the abandoned work may still hold sockets and
 * timers open, so the caller should exit explicitly afterwards.
 */
export async function runWithTeardown<T>(work: (teardown: Teardown) => Promise<T>, timeoutSeconds: number, report: (line: string) => void): Promise<T> {
  const teardown = new Teardown();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the benchmark did not finish within ${timeoutSeconds} s (--timeout); everything it started is being stopped`)), timeoutSeconds * 1000);
  });
  const interrupted = new Promise<never>((_, reject) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => reject(new Error(`interrupted by ${signal}`)));
  });
  try {
    return await Promise.race([work(teardown), deadline, interrupted]);
  } finally {
    clearTimeout(timer);
    await teardown.run(report);
  }
}
