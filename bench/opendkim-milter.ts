import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dkimRecordName, dkimTxtRecord, generateDkimKey } from '../src/message/dkim/index.js';
import { run } from '../test/support/external-tools.js';
import type { DnsTxtRecord } from './mta-under-test.js';
import { findExecutable } from './required-tools.js';
import { stopChild } from './stop-child.js';
import { freePort, waitUntilListening } from './tcp-port.js';

export interface OpenDkimMilter {
  /** The milter listens on 127.0.0.1. */
  port: number;
  /** The public key to publish. */
  dkimRecord: DnsTxtRecord;
  pid: number;
  version: string;
  stop(): Promise<void>;
}

/**
 * OpenDKIM refuses a configuration or key file below a directory others may write to, such as /tmp, so its files go
 * in /run (root's, like the bench's Postfix instance).
 */
const RUNTIME_PARENT = '/run';

/** OpenDKIM as a signing milter for `domain`: RSA-2048, relaxed/relaxed, rsa-sha256, as SES signs. */
export async function startOpenDkim(domain: string, selector: string): Promise<OpenDkimMilter> {
  const dir = mkdtempSync(join(RUNTIME_PARENT, 'relaygate-bench-opendkim-'));
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  const keyFile = join(dir, `${selector}.private`);
  const key = generateDkimKey('rsa-2048');
  writeFileSync(keyFile, key.privateKeyPem, { mode: 0o600 });
  const port = await freePort('127.0.0.1');
  const configFile = join(dir, 'opendkim.conf');
  writeFileSync(
    configFile,
    [
      'Syslog no',
      // Sign only: the bench's mail comes from 127.0.0.1, which OpenDKIM treats as internal.
      'Mode s',
      `Domain ${domain}`,
      `Selector ${selector}`,
      `KeyFile ${keyFile}`,
      'Canonicalization relaxed/relaxed',
      'SignatureAlgorithm rsa-sha256',
      `Socket inet:${port}@127.0.0.1`,
      `PidFile ${join(dir, 'opendkim.pid')}`,
      '',
    ].join('\n'),
  );
  const binary = findExecutable('opendkim') ?? 'opendkim';
  const version = /v(\d[\w.]*)/.exec((await run(binary, ['-V'])).stdout)?.[1] ?? 'unknown';
  // -f keeps it in the foreground as the bench's own child, so the bench can always stop it.
  const child = spawn(binary, ['-f', '-x', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let failure: Error | null = null;
  child.once('error', (error) => (failure ??= error));
  child.once('exit', (code, signal) => (failure ??= new Error(`opendkim exited (${signal ?? code}): ${stderr.trim()}`)));
  try {
    await waitUntilListening('127.0.0.1', port, 'opendkim', () => {
      if (failure) throw failure;
    });
  } catch (error) {
    await stopChild(child);
    removeDir();
    throw error;
  }
  return {
    port,
    dkimRecord: { name: dkimRecordName(selector, domain), value: dkimTxtRecord(key) },
    pid: child.pid as number,
    version,
    async stop() {
      await stopChild(child);
      removeDir();
    },
  };
}
