import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestCertificate } from '../test/support/test-certificate.js';
import { runChecked } from './run-checked.js';
import { freePort, waitUntilListening } from './tcp-port.js';

export interface PostfixSetup {
  /** Where everything goes to: the sink. */
  relayHost: string;
  relayPort: number;
  /** Recipient domains that go elsewhere than the relay host, with their next hop as [host]:port. */
  transports: Record<string, string>;
  /** inet:HOST:PORT of the DKIM milter. */
  milter: string;
  user: string;
  password: string;
}

export interface PostfixSubmission {
  port: number;
  version: string;
  /** The master process; every Postfix daemon of the instance descends from it. */
  masterPid: number;
  stop(): Promise<void>;
}

const SASL_REALM = 'bench.test';

/**
 * A private Postfix instance (its own configuration and queue directories, nothing of the system's touched) set up
 * as an SES-like submission service: STARTTLS required, AUTH through Cyrus SASL with a sasldb, relaying only for
 * authenticated clients, every message signed by a DKIM milter, everything relayed to one host.
 */
export async function startPostfixSubmission(workDir: string, setup: PostfixSetup): Promise<PostfixSubmission> {
  const configDir = join(workDir, 'etc');
  const queueDir = join(workDir, 'queue');
  const dataDir = join(workDir, 'data');
  // Debian's Postfix reads its Cyrus SASL application file from $config_directory/sasl and ignores
  // cyrus_sasl_config_path, which other builds use; both name this directory.
  const saslDir = join(configDir, 'sasl');
  for (const directory of [configDir, queueDir, dataDir, saslDir]) mkdirSync(directory, { recursive: true });
  // The daemons run as the postfix user: they must reach the work directory and own their data directory.
  chmodSync(workDir, 0o755);

  const certificate = await createTestCertificate(['127.0.0.1', 'localhost']);
  writeFileSync(join(configDir, 'tls.crt'), certificate.cert);
  writeFileSync(join(configDir, 'tls.key'), certificate.key, { mode: 0o600 });

  const sasldb = join(saslDir, 'sasldb2');
  writeFileSync(join(saslDir, 'smtpd.conf'), ['pwcheck_method: auxprop', 'auxprop_plugin: sasldb', 'mech_list: PLAIN LOGIN', `sasldb_path: ${sasldb}`, ''].join('\n'));
  await runChecked('saslpasswd2', ['-p', '-c', '-f', sasldb, '-u', SASL_REALM, setup.user], { input: setup.password });
  // smtpd reads the password database as the postfix user; Postfix wants everything else in its configuration root's.
  await runChecked('chgrp', ['postfix', sasldb]);
  chmodSync(sasldb, 0o640);
  await runChecked('chown', ['postfix:', dataDir]);

  const port = await freePort('127.0.0.1');
  const logFile = join(workDir, 'postfix.log');
  writeFileSync(join(configDir, 'main.cf'), mainCf({ queueDir, dataDir, saslDir, configDir, logFile, workDir, setup }));
  writeFileSync(join(configDir, 'master.cf'), masterCf(port));

  const version = (await runChecked('postconf', ['-c', configDir, '-h', 'mail_version'])).trim();
  await runChecked('postfix', ['-c', configDir, 'start']).catch((error: Error) => {
    throw new Error(`${error.message}; Postfix log: ${tail(logFile)}`);
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await runChecked('postfix', ['-c', configDir, 'stop']);
    await waitForExit(join(queueDir, 'pid', 'master.pid'));
  };
  try {
    await waitUntilListening('127.0.0.1', port, 'Postfix smtpd', () => undefined);
    const masterPid = Number(readFileSync(join(queueDir, 'pid', 'master.pid'), 'latin1').trim());
    return { port, version, masterPid, stop };
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}; Postfix log: ${tail(logFile)}`);
  }
}

function mainCf(paths: { queueDir: string; dataDir: string; saslDir: string; configDir: string; logFile: string; workDir: string; setup: PostfixSetup }): string {
  return [
    'compatibility_level = 3.6',
    `queue_directory = ${paths.queueDir}`,
    `data_directory = ${paths.dataDir}`,
    'mail_owner = postfix',
    'setgid_group = postdrop',
    'myhostname = postfix.bench.test',
    'mydomain = bench.test',
    'myorigin = $mydomain',
    // No local delivery: every recipient is remote and goes to the relay host, and no alias table is needed.
    'mydestination =',
    'alias_maps =',
    'alias_database =',
    'inet_interfaces = 127.0.0.1',
    'inet_protocols = ipv4',
    `maillog_file_prefixes = ${paths.workDir}`,
    `maillog_file = ${paths.logFile}`,
    `relayhost = [${paths.setup.relayHost}]:${paths.setup.relayPort}`,
    ...transportMaps(paths.setup.transports),
    // Submission as SES offers it: TLS before anything else, then AUTH, then relaying for authenticated clients only.
    'smtpd_tls_security_level = encrypt',
    'smtpd_tls_auth_only = yes',
    `smtpd_tls_cert_file = ${join(paths.configDir, 'tls.crt')}`,
    `smtpd_tls_key_file = ${join(paths.configDir, 'tls.key')}`,
    'smtpd_sasl_auth_enable = yes',
    'smtpd_sasl_type = cyrus',
    'smtpd_sasl_path = smtpd',
    `cyrus_sasl_config_path = ${paths.saslDir}`,
    `smtpd_sasl_local_domain = ${SASL_REALM}`,
    'smtpd_sasl_security_options = noanonymous',
    'smtpd_relay_restrictions = permit_sasl_authenticated, reject',
    `smtpd_milters = ${paths.setup.milter}`,
    // A message the milter could not sign is refused for now rather than sent unsigned.
    'milter_default_action = tempfail',
    '',
  ].join('\n');
}

function transportMaps(transports: Record<string, string>): string[] {
  const entries = Object.entries(transports).map(([domain, nextHop]) => `${domain}=smtp:${nextHop}`);
  return entries.length > 0 ? [`transport_maps = inline:{ ${entries.join(', ')} }`] : [];
}

/**
 * Debian's services, without chroot (the SASL plugins and the bench's files live outside the queue directory) and
 * with the SMTP listener moved to the bench's port on 127.0.0.1.
 */
function masterCf(port: number): string {
  return readFileSync('/etc/postfix/master.cf', 'utf8')
    .split('\n')
    .map((line) => {
      if (/^smtp\s+inet\s/.test(line)) return `127.0.0.1:${port} inet n - n - - smtpd`;
      if (!/^[a-z]/.test(line)) return line;
      const fields = line.split(/\s+/);
      if (fields[4] === 'y') fields[4] = 'n';
      return fields.join(' ');
    })
    .join('\n');
}

async function waitForExit(pidFile: string): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'latin1').trim());
  for (let waited = 0; waited < 15_000; waited += 100) {
    if (!existsSync(`/proc/${pid}`)) return;
    await sleep(100);
  }
  throw new Error(`Postfix master ${pid} still runs 15 s after postfix stop`);
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no log)';
  }
}
