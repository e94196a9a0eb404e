import { setTimeout as sleep } from 'node:timers/promises';
import { SqliteQueueStore } from '../../src/queue/sqlite-queue-store.js';
import type { MessageDetails } from '../../src/queue/queued-message.js';
import type { TestDnsServer } from './dns-server.js';
import type { GatewayProcess } from './gateway-process.js';
import { messageText } from './message-text.js';
import type { TestCredential } from './provision.js';
import { startSinkMx, type SinkMx, type SinkMxOptions } from './sink-mx.js';
import { SmtpDialog } from './smtp-dialog.js';

/**
 * Sink MX servers on several 127.0.0.x addresses sharing one port, since the gateway's delivery.port applies to every
 * MX. The first picks a free port; the others bind the same number on their own address.
 */
export async function startSinks(options: Array<Omit<SinkMxOptions, 'port'>>): Promise<SinkMx[]> {
  const [first, ...rest] = options;
  if (!first) return [];
  const sink = await startSinkMx(first);
  const others = await Promise.all(rest.map((option) => startSinkMx({ ...option, port: sink.port })));
  return [sink, ...others];
}

/** The delivery section for tests: MX lookups at the test DNS server, MX port of the sinks, loopback targets allowed. */
export function testDeliveryConfig(dns: TestDnsServer, port: number, delivery: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    dns: { servers: [dns.address], timeoutMs: 500 },
    delivery: { port, allowPrivateAddresses: true, ...delivery },
  };
}

export interface TestMessage {
  mailFrom?: string;
  to: string[];
  from?: string;
  subject?: string;
  extraHeaders?: string[];
  body?: string;
}

/** Submits one message over the implicit-TLS listener with AUTH and returns its message id; the body is dot-stuffed on the way. */
export async function submit(gateway: GatewayProcess, credential: TestCredential, message: TestMessage): Promise<string> {
  const dialog = await SmtpDialog.open({ port: gateway.tlsPorts[0]!, tls: true });
  try {
    await dialog.reply();
    await dialog.ehlo();
    const auth = await dialog.authPlain(credential.user, credential.password);
    if (!auth.startsWith('235')) throw new Error(`AUTH: ${auth}`);
    const replies = [await dialog.command(`MAIL FROM:<${message.mailFrom ?? 'sender@example.com'}>`)];
    for (const recipient of message.to) replies.push(await dialog.command(`RCPT TO:<${recipient}>`));
    replies.push(await dialog.command('DATA'));
    const text = messageText({ from: message.from ?? 'Sender <sender@example.com>', to: message.to.join(', '), subject: message.subject, extraHeaders: message.extraHeaders, body: message.body });
    // Dot-stuffing (RFC 5321 4.5.2), so a body line "." is content.
    dialog.write(`${text.replace(/^\./gm, '..')}.\r\n`);
    const accepted = await dialog.line();
    const id = /^250 Ok (\S+)$/.exec(accepted)?.[1];
    if (!id) throw new Error(`message refused: ${[...replies, accepted].join(' / ')}`);
    await dialog.command('QUIT');
    return id;
  } finally {
    dialog.close();
  }
}

export function queueDetails(dataDir: string, messageId: string): MessageDetails | null {
  const queue = SqliteQueueStore.open(dataDir);
  try {
    return queue.details(messageId);
  } finally {
    queue.close();
  }
}

/** Waits until every recipient of the message is in a final state (delivered, bounced, deleted) and returns the details. */
export async function waitForFinal(dataDir: string, messageId: string, timeoutMs = 20_000): Promise<MessageDetails> {
  return waitForDetails(dataDir, messageId, (details) => details.completedAt !== null, timeoutMs);
}

/** Re-reads the queue until `done` holds; the deadline only bounds a test that would otherwise hang. */
export async function waitForDetails(dataDir: string, messageId: string, done: (details: MessageDetails) => boolean, timeoutMs = 20_000): Promise<MessageDetails> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const details = queueDetails(dataDir, messageId);
    if (details && done(details)) return details;
    if (Date.now() > deadline) throw new Error(`message ${messageId} did not reach the expected state: ${JSON.stringify(details, null, 2)}`);
    await sleep(50);
  }
}

/** Waits until no delivery is left to make in any of the data directories' queues (read beside running gateways). */
export async function waitForEmptyQueues(dataDirs: readonly string[], timeoutMs = 30_000): Promise<void> {
  const pending = (dataDir: string) => {
    const queue = SqliteQueueStore.open(dataDir);
    try {
      return queue.list({ pendingOnly: true }).length;
    } finally {
      queue.close();
    }
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = dataDirs.map(pending);
    if (left.every((count) => count === 0)) return;
    if (Date.now() > deadline) throw new Error(`deliveries still pending after ${timeoutMs} ms: ${left.join(', ')}`);
    await sleep(100);
  }
}
