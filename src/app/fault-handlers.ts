import type { Logger } from 'pino';

/** Exit status after an uncaught exception (EX_SOFTWARE): systemd's Restart=on-failure starts the gateway again. */
export const UNCAUGHT_EXCEPTION_EXIT_CODE = 70;

/**
 * The last resort for errors that nothing else caught (each one is a defect), so that none goes unlogged:
 * - an unhandled rejection is a promise nobody waited for. The work it belonged to is abandoned, but no code was
 *   interrupted half-way and everything durable (queue, leases, spool) changes only in SQLite transactions: the
 *   gateway logs it and keeps serving;
 * - an uncaught exception interrupted code at an arbitrary point, so the process's own state (sessions, leases
 *   held, counters) is unknown: the gateway logs it and exits with status 70, for the service manager to restart
 *   it. The restart re-queues the deliveries left in flight and removes body files of unacknowledged messages.
 */
export function installFaultHandlers(log: Logger): void {
  process.on('unhandledRejection', (reason) => {
    log.error({ err: reason }, 'unhandled promise rejection (a defect): its work was abandoned; the gateway keeps serving');
  });
  process.on('uncaughtException', (error, origin) => {
    log.fatal({ err: error, origin }, 'uncaught exception (a defect): the process state is unknown; exiting for the service manager to restart the gateway');
    process.exit(UNCAUGHT_EXCEPTION_EXIT_CODE);
  });
}
