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
