let loading: Promise<typeof import('mailparser')> | null = null;

/**
 * mailparser, loaded when the first report is read rather than by every process whose code could read one: with the
 * charset tables and HTML converter it pulls in, it takes about 6 MB of a process's heap, and a session worker that
 * never reads a report would keep them for nothing (and mark them in every full collection).
 */
export function loadMailparser(): Promise<typeof import('mailparser')> {
  return (loading ??= import('mailparser'));
}
