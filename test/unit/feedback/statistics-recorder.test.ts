import test from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { buildConfig } from '../../../src/config/load.js';
import { EventConsumer } from '../../../src/events/event-consumer.js';
import { mailEvent, type MessageForEvents } from '../../../src/events/event-builders.js';
import type { MailEvent } from '../../../src/events/mail-event.js';
import { judgeReputation } from '../../../src/feedback/reputation/reputation.js';
import { statisticsRecorder } from '../../../src/feedback/statistics/statistics-recorder.js';
import { SqliteQueueStore } from '../../../src/queue/sqlite-queue-store.js';
import { SqliteControlStore } from '../../../src/store/sqlite/sqlite-control-store.js';
import { cliJson } from '../../support/cli-runner.js';
import { tempDir } from '../../support/gateway-process.js';

const ACCOUNT = '111122223333';
const NOW = Date.now();
const QUARTER = 15 * 60_000;
const bucketStart = (at: number) => at - (at % QUARTER);

const message = (id: string, recipients: string[], configurationSet: string | null = 'marketing'): MessageForEvents => ({
  id, accountId: ACCOUNT, mailFrom: 'sender@example.com', receivedAt: NOW, recipients, configurationSet, tags: {},
});
const send = (id: string, recipients: string[], at: number, set?: string | null) => mailEvent('Send', message(id, recipients, set), at, {});
const hardBounce = (id: string, recipient: string, at: number, bounceSubType = 'General') =>
  mailEvent('Bounce', message(id, [recipient]), at, { bounceType: 'Permanent', bounceSubType, bouncedRecipients: [{ emailAddress: recipient }], timestamp: new Date(at).toISOString(), feedbackId: `f-${id}-${recipient}` });
const softBounce = (id: string, recipient: string, at: number) =>
  mailEvent('Bounce', message(id, [recipient]), at, { bounceType: 'Transient', bounceSubType: 'MailboxFull', bouncedRecipients: [{ emailAddress: recipient }], timestamp: new Date(at).toISOString(), feedbackId: `t-${id}` });
const complaint = (id: string, recipient: string, at: number) =>
  mailEvent('Complaint', message(id, [recipient]), at, { complainedRecipients: [{ emailAddress: recipient }], timestamp: new Date(at).toISOString(), feedbackId: `c-${id}`, complaintSubType: null });

async function drained(queue: SqliteQueueStore): Promise<void> {
  const deadline = Date.now() + 5000;
  while (queue.events.backlog('send-statistics') > 0) {
    if (Date.now() > deadline) throw new Error('statistics did not catch up within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('judging: hard-bounce and complaint rates against the guide thresholds, and no verdict below the minimum volume', () => {
  const { reputation } = buildConfig({});
  const counts = (sent: number, bounces: number, complaints: number) => ({ deliveryAttempts: sent, bounces, complaints, rejects: 0, reputationSent: sent, reputationBounces: bounces, reputationComplaints: complaints });
  assert.equal(judgeReputation(counts(1000, 49, 0), reputation).status, 'Healthy');
  assert.equal(judgeReputation(counts(1000, 50, 0), reputation).status, 'Under review');
  assert.equal(judgeReputation(counts(1000, 100, 0), reputation).bounceStatus, 'Sending paused');
  assert.equal(judgeReputation(counts(1000, 0, 1), reputation).complaintStatus, 'Under review');
  assert.equal(judgeReputation(counts(1000, 0, 5), reputation).status, 'Sending paused');
  assert.deepEqual(judgeReputation(counts(199, 199, 199), reputation), {
    status: 'Healthy', bounceStatus: 'Healthy', complaintStatus: 'Healthy', bounceRate: null, complaintRate: null, volume: 199,
  });
});

test('events become 15-minute GetSendStatistics points and reputation rates; a pause-level rate pauses the configuration set', async () => {
  const dataDir = tempDir();
  writeFileSync(join(dataDir, 'relaygate.yaml'), 'reputation:\n  minimumVolume: 10\n  autoPause: configuration-set\n');
  const config = buildConfig({ reputation: { minimumVolume: 10, autoPause: 'configuration-set' } }, { dataDir });
  const store = SqliteControlStore.open(dataDir);
  const queue = SqliteQueueStore.open(dataDir);
  await store.accounts.create({ id: ACCOUNT, sandbox: false, sendingEnabled: true, maxSendRate: 10, max24HourSend: 1000 });
  await store.configurationSets.create({ accountId: ACCOUNT, name: 'marketing', sendingEnabled: true, tlsPolicy: 'Optional', sendingPoolName: null, suppressedReasons: null, eventDestinations: [] });
  const consumer = new EventConsumer(queue.events, statisticsRecorder({ statistics: queue.statistics, store, config: config.reputation, log: pino({ level: 'silent' }) }), pino({ level: 'silent' }));
  consumer.start();

  const earlier = NOW - 2 * QUARTER;
  const recipients = Array.from({ length: 19 }, (_, n) => `r${n}@example.org`);
  const events: MailEvent[] = [
    send('m1', [...recipients, 'success@simulator.amazonses.com'], earlier),
    send('m2', ['x@example.org'], NOW, null),
    hardBounce('m1', 'r1@example.org', NOW),
    hardBounce('m1', 'bounce@simulator.amazonses.com', NOW),
    hardBounce('m1', 'r2@example.org', NOW, 'OnAccountSuppressionList'),
    softBounce('m1', 'r3@example.org', NOW),
    complaint('m1', 'r4@example.org', NOW),
  ];
  queue.events.append(events);
  await drained(queue);
  queue.events.append(events.slice(0, 1)); // the same event again (at-least-once delivery of the log) counts once
  await drained(queue);

  const stats = await cliJson<{ SendDataPoints: unknown[] }>(dataDir, 'stats', ACCOUNT);
  assert.deepEqual(stats.SendDataPoints, [
    { Timestamp: new Date(bucketStart(earlier)).toISOString(), DeliveryAttempts: 20, Bounces: 0, Complaints: 0, Rejects: 0 },
    { Timestamp: new Date(bucketStart(NOW)).toISOString(), DeliveryAttempts: 1, Bounces: 3, Complaints: 1, Rejects: 0 },
  ]);
  const reputation = await cliJson<Record<string, unknown>>(dataDir, '--config', join(dataDir, 'relaygate.yaml'), 'reputation', ACCOUNT);
  assert.deepEqual(reputation, {
    AccountId: ACCOUNT, Status: 'Sending paused', SendingEnabled: true, BounceRate: 0.05, BounceStatus: 'Under review',
    ComplaintRate: 0.05, ComplaintStatus: 'Sending paused', Recipients: 20, HardBounces: 1, Complaints: 1, WindowDays: 14,
  });
  const set = await cliJson<Record<string, unknown>>(dataDir, '--config', join(dataDir, 'relaygate.yaml'), 'reputation', ACCOUNT, '--configuration-set', 'marketing');
  assert.equal(set.Status, 'Sending paused');
  assert.equal(set.SendingEnabled, false, 'autoPause: configuration-set paused the set');
  assert.equal((await store.accounts.get(ACCOUNT))?.sendingEnabled, true, 'the account itself is not paused');
  await consumer.stop();
  queue.close();
  await store.close();
});
