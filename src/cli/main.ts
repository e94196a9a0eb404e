import { Command, CommanderError } from 'commander';
import { fileSystemProblem, isFileSystemError, isListenError, listenProblem } from '../common/system-errors.js';
import { RedisUnavailableError } from '../cluster/redis-ready.js';
import { ConfigError } from '../config/config-error.js';
import { AlreadyExistsError, NotFoundError } from '../store/control-store.js';
import { DatabaseFileError } from '../store/sqlite/database.js';
import { IdentityNameError } from '../identity/identity-name.js';
import { DkimError } from '../message/dkim/index.js';
import { InvalidArnError, PolicyValidationError } from '../policy/iam/index.js';
import { UsageError } from './cli-context.js';
import { accountCommand } from './commands/account-command.js';
import { bounceRuleCommand } from './commands/bounce-rule-command.js';
import { clusterCommand } from './commands/cluster-command.js';
import { configsetCommand } from './commands/configset-command.js';
import { clusterStatusCommand } from './commands/cluster-status-command.js';
import { credentialsCommand } from './commands/credentials-command.js';
import { eventsCommand } from './commands/events-command.js';
import { identityCommand } from './commands/identity-command.js';
import { policyCommand } from './commands/policy-command.js';
import { queueCommand } from './commands/queue-command.js';
import { quotaCommand } from './commands/quota-command.js';
import { serveCommand } from './commands/serve-command.js';
import { smtpPasswordCommand } from './commands/smtp-password-command.js';
import { suppressionCommand } from './commands/suppression-command.js';
import { reputationCommand, statsCommand } from './commands/statistics-commands.js';
import { InvalidNextTokenError } from '../store/suppression-page-token.js';

/** Errors an operator can act on: printed as one line, no stack trace. So is a failed file-system call (a file given that does not exist, a data directory that is not writable). */
const OPERATOR_ERRORS = [ConfigError, UsageError, NotFoundError, AlreadyExistsError, IdentityNameError, DkimError, PolicyValidationError, InvalidArnError, DatabaseFileError, InvalidNextTokenError, RedisUnavailableError];

export function buildProgram(): Command {
  const program = new Command('relaygate')
    .description('Self-hosted, Amazon SES-compatible SMTP relay gateway')
    .option('-c, --config <file>', 'configuration file (YAML; see config/relaygate.example.yaml; env RELAYGATE_CONFIG)')
    .option('-d, --data-dir <dir>', 'data directory: databases, spool, generated certificate (default ./data; env RELAYGATE_DATA_DIR)')
    .option('--redis <url>', 'cluster mode: the Redis every node shares, redis://[:password@]host:6379/0 (cluster.redisUrl; env RELAYGATE_REDIS)')
    .showHelpAfterError()
    .exitOverride();
  for (const command of [
    serveCommand(),
    accountCommand(),
    credentialsCommand(),
    identityCommand(),
    configsetCommand(),
    policyCommand(),
    quotaCommand(),
    smtpPasswordCommand(),
    queueCommand(),
    bounceRuleCommand(),
    suppressionCommand(),
    statsCommand(),
    reputationCommand(),
    eventsCommand(),
    clusterCommand().addCommand(clusterStatusCommand().exitOverride()),
  ]) {
    program.addCommand(command.exitOverride());
  }
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    const message = OPERATOR_ERRORS.some((type) => error instanceof type)
      ? (error as Error).message
      : isFileSystemError(error)
        ? fileSystemProblem(error)
        : isListenError(error)
          ? listenProblem(error)
          : null;
    if (message !== null) {
      process.stderr.write(`relaygate: ${message}\n`);
      process.exitCode = 1;
      return;
    }
    throw error;
  }
}
