import { Command } from 'commander';
import { installFaultHandlers } from '../../app/fault-handlers.js';
import { startGateway } from '../../app/gateway.js';
import { createLogger } from '../../log/logger.js';
import { commandConfig } from '../cli-context.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function serveCommand(): Command {
  return new Command('serve')
    .description('run the gateway (SMTP listeners, queue); SIGHUP reloads certificates, SIGTERM stops gracefully')
    .option('--listen <HOST:PORT=MODE>', 'listener, repeatable; MODE is starttls or tls, +intake to take bounces and complaints as port 25 does (replaces the configured listeners)', collect)
    .option('--region <region>', 'SES region the gateway answers for (password derivation, ARNs)')
    .option('--hostname <name>', 'name in the greeting and in Message-IDs')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent')
    .addHelpText(
      'after',
      `
With no configuration the gateway keeps its data in ./data, generates a self-signed certificate,
and listens on 25, 587, 2587 (STARTTLS) and 465, 2465 (TLS); without permission to bind ports
below 1024 it uses 2525, 2587 and 2465 instead. Port 25 (or 2525) also takes bounces and complaints
for the gateway's return paths without authentication; so does a listener marked +intake.

Example:
  relaygate serve --data-dir /var/lib/relaygate --listen 127.0.0.1:2587=starttls --listen 127.0.0.1:2465=tls`,
    )
    .action(async (options: { listen?: string[]; region?: string; hostname?: string; logLevel?: string }, self: Command) => {
      const config = commandConfig(self, options);
      const log = createLogger(config.log);
      installFaultHandlers(log);
      const gateway = await startGateway(config, log);
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, 'stopping: no new connections, finishing sessions in flight');
        gateway.stop().then(
          () => process.exit(0),
          (error: unknown) => {
            log.error({ err: error }, 'error while stopping');
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGHUP', () => {
        gateway.reloadTls().catch((error: unknown) => log.error({ err: error }, 'TLS reload failed; keeping the previous certificates'));
      });
    });
}
