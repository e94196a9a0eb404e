import assert from 'node:assert/strict';
import { copiesById, startSubmitting, tokenOf, trialBody, type SubmissionLoad } from '../../bench/crash-trial-load.js';
import { Prng } from '../../bench/prng.js';
import type { GatewayProcess } from './gateway-process.js';
import type { TestCredential } from './provision.js';
import type { ReceivedMessage } from './sink-mx.js';

const CLIENTS_PER_NODE = 2;

/**
 * Clients submitting to each node's STARTTLS listener (bench/crash-trial-load.ts: 2 KB messages and one in ten of
 * 200 KB, each after the previous reply) until `signal`; a session that fails is replaced. One load per node, with
 * tokens unique over the fleet. `finished` resolves once every client has stopped.
 */
export function submitToEachNode(
  nodes: readonly GatewayProcess[],
  credential: TestCredential,
  recipientDomain: string,
  signal: AbortSignal,
): { loads: SubmissionLoad[]; finished: Promise<void> } {
  const started = nodes.map((node, index) =>
    startSubmitting({
      target: { host: '127.0.0.1', port: node.starttlsPorts[0]!, user: credential.user, password: credential.password, replyTimeoutMs: 15_000 },
      clients: CLIENTS_PER_NODE,
      senderDomain: 'example.com',
      recipientDomain,
      trial: index,
      rng: new Prng(index + 1),
      signal,
    }),
  );
  return { loads: started.map(({ load }) => load), finished: Promise.all(started.map(({ finished }) => finished)).then(() => undefined) };
}

/**
 * Compares what an MX received with what the clients of bench/crash-trial-load.ts were told: every message answered
 * `250 Ok <id>` arrived exactly once, under that id (the gateway's Message-ID), carrying its own token and the whole
 * body it was sent with; no message arrived twice; and whatever arrived was sent by a client, acknowledged or cut off
 * before the reply (committed just before its node died).
 */
export function assertAckedDeliveredOnce(loads: readonly SubmissionLoad[], received: readonly ReceivedMessage[]): void {
  const copies = copiesById(received);
  const duplicated = [...copies].filter(([, messages]) => messages.length > 1).map(([id, messages]) => `${id} ×${messages.length}`);
  assert.deepEqual(duplicated, [], 'no message arrives twice');
  const sent = new Set<string>();
  for (const load of loads) {
    for (const [id, token] of load.acked) {
      sent.add(token);
      const [message] = copies.get(id) ?? [];
      assert.ok(message, `${id} (token ${token}) got 250 and never arrived`);
      assert.equal(tokenOf(message.raw), token, `the message delivered as ${id}`);
      const raw = message.raw.toString('latin1');
      const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
      const expected = trialBody(load.bodySizes.get(token)!);
      // Compared by length first: a diff of two 200 KB bodies would drown the report.
      assert.equal(body.length, expected.length, `the body of ${id}`);
      assert.ok(body === expected, `the body of ${id} arrived as sent`);
    }
    for (const token of load.unconfirmed) sent.add(token);
  }
  const strangers = received.map((message) => tokenOf(message.raw)).filter((token) => !sent.has(token));
  assert.deepEqual(strangers, [], 'every delivered message was sent by a client');
}
