import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './external-tools.js';

export interface PostfixInstance {
  configDir: string;
  /** Submits a message with Postfix's sendmail, as the guide's relayhost test does. */
  sendmail(from: string, to: string, message: string): Promise<void>;
  flush(): Promise<void>;
  log(): string;
  stop(): Promise<void>;
}

/**
 * A private Postfix instance (its own config and queue directories, no listener on port 25) that
 * relays everything to relaygate with the SES guide's relayhost settings, and `settings` (main.cf lines) on top.
 */
export async function startPostfixRelayClient(workDir: string, relayPort: number, user: string, password: string, settings: string[] = []): Promise<PostfixInstance> {
  const configDir = join(workDir, 'postfix-etc');
  const queueDir = join(workDir, 'postfix-queue');
  const dataDir = join(workDir, 'postfix-data');
  for (const directory of [configDir, queueDir, dataDir]) mkdirSync(directory, { recursive: true });
  const logFile = join(workDir, 'postfix.log');
  const relay = `[127.0.0.1]:${relayPort}`;

  writeFileSync(
    join(configDir, 'main.cf'),
    [
      'compatibility_level = 3.6',
      `queue_directory = ${queueDir}`,
      `data_directory = ${dataDir}`,
      'mail_owner = postfix',
      'setgid_group = postdrop',
      'myhostname = client.relaygate.test',
      'mydomain = relaygate.test',
      'myorigin = $mydomain',
      'mydestination =',
      'inet_interfaces = loopback-only',
      'inet_protocols = ipv4',
      `maillog_file_prefixes = ${workDir}`,
      `maillog_file = ${logFile}`,
      // The SES guide's relayhost settings, pointed at relaygate.
      `relayhost = ${relay}`,
      'smtp_sasl_auth_enable = yes',
      'smtp_sasl_security_options = noanonymous',
      `smtp_sasl_password_maps = hash:${join(configDir, 'sasl_passwd')}`,
      'smtp_use_tls = yes',
      'smtp_tls_security_level = encrypt',
      'smtp_tls_note_starttls_offer = yes',
      ...settings,
      '',
    ].join('\n'),
  );
  // Debian's services without the port-25 listener and without chroot (the SASL plugins live outside the queue directory).
  const master = readFileSync('/etc/postfix/master.cf', 'utf8')
    .split('\n')
    .filter((line) => !/^smtp\s+inet\s/.test(line))
    .map((line) => (/^[a-z]/.test(line) ? line.replace(/^(\S+\s+\S+\s+\S+\s+\S+\s+)y(\s)/, '$1n$2') : line))
    .join('\n');
  writeFileSync(join(configDir, 'master.cf'), master);
  writeFileSync(join(configDir, 'sasl_passwd'), `${relay} ${user}:${password}\n`, { mode: 0o600 });

  const postfix = async (command: string, args: string[]) => {
    const result = await run(command, args, { timeoutMs: 30_000 });
    if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.code}): ${result.stderr}${result.stdout}`);
  };
  // Postfix's daemons run as the postfix user: they must reach the work directory and own their data directory.
  chmodSync(workDir, 0o755);
  await postfix('chown', ['postfix:', dataDir]);
  await postfix('postmap', ['-c', configDir, `hash:${join(configDir, 'sasl_passwd')}`]);
  await postfix('postfix', ['-c', configDir, 'start']);

  return {
    configDir,
    async sendmail(from, to, message) {
      const result = await run('sendmail', ['-C', configDir, '-f', from, to], { input: message, timeoutMs: 30_000 });
      if (result.code !== 0) throw new Error(`sendmail failed: ${result.stderr}`);
    },
    flush: () => postfix('postqueue', ['-c', configDir, '-f']),
    log: () => {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    },
    stop: () => postfix('postfix', ['-c', configDir, 'stop']),
  };
}
