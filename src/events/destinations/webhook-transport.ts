import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { sesTimestamp } from '../event-builders.js';
import type { SnsNotification, SnsSigner } from './sns-signing.js';
import type { OutboundRecord, Transport } from './transport.js';

/** The SNS topic and subscription a webhook stands for (they appear in the envelope and its headers). */
export interface WebhookChannel {
  topicArn: string;
  subscriptionArn: string;
}

export interface WebhookOptions {
  signer: SnsSigner;
  /** A request without a complete answer after this long has failed. */
  timeoutMs: number;
  /** Requests in flight at once (records of one message are always sent one after the other). */
  concurrency: number;
}

/** The query parameter of a webhook URL that asks for batched envelopes; it is removed from the URL that is called. */
export const BATCH_SIZE_PARAMETER = 'batchSize';
export const MAX_BATCH_SIZE = 1000;

/**
 * POSTs records to an HTTP(S) subscriber as SNS does: one signed Notification envelope per record, the record as the
 * `Message` string, the event's id as `MessageId` (so a retried record carries the same id), SNS's headers.
 * With `?batchSize=N` in the URL, one envelope carries up to N records: its `Message` is a JSON array of
 * `{ "MessageId", "Message" }` entries, one signature for all (for high volume; a plain SNS subscriber then has to
 * read the array).
 */
export class WebhookTransport implements Transport {
  private readonly url: URL;
  private readonly batchSize: number;
  private readonly agent: http.Agent;

  constructor(
    target: URL,
    private readonly channel: WebhookChannel,
    private readonly options: WebhookOptions,
  ) {
    this.url = new URL(target);
    const batch = this.url.searchParams.get(BATCH_SIZE_PARAMETER);
    this.url.searchParams.delete(BATCH_SIZE_PARAMETER);
    // Checked by checkTarget before.
    this.batchSize = batch === null ? 1 : Number(batch);
    const agentOptions = { keepAlive: true, maxSockets: options.concurrency };
    this.agent = this.url.protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  }

  async send(records: readonly OutboundRecord[]): Promise<void> {
    if (this.batchSize > 1) {
      for (let start = 0; start < records.length; start += this.batchSize) await this.post(this.batchEnvelope(records.slice(start, start + this.batchSize)));
      return;
    }
    await this.sendEachInOrderPerMessage(records);
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }

  /** Records of different messages go in parallel; those of one message one after the other, in order. */
  private async sendEachInOrderPerMessage(records: readonly OutboundRecord[]): Promise<void> {
    const chains = new Map<string, OutboundRecord[]>();
    for (const record of records) {
      const chain = chains.get(record.messageId);
      if (chain) chain.push(record);
      else chains.set(record.messageId, [record]);
    }
    const pending = [...chains.values()];
    let failure: unknown = null;
    const worker = async () => {
      for (let chain = pending.shift(); chain; chain = pending.shift()) {
        try {
          for (const record of chain) await this.post(this.envelope(record));
        } catch (error) {
          failure ??= error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency, pending.length) }, worker));
    if (failure) throw failure;
  }

  private envelope(record: OutboundRecord): SignedBody {
    return signedBody(
      this.options.signer.notification({
        messageId: record.id,
        topicArn: this.channel.topicArn,
        subject: record.subject,
        message: record.body,
        timestamp: sesTimestamp(record.at),
        subscriptionArn: this.channel.subscriptionArn,
      }),
    );
  }

  private batchEnvelope(records: readonly OutboundRecord[]): SignedBody {
    const first = records[0]!;
    const entries = records.map((record) => ({ MessageId: record.id, Message: record.body }));
    return signedBody(
      this.options.signer.notification({
        messageId: uuidFromIds(records.map((record) => record.id)),
        topicArn: this.channel.topicArn,
        subject: first.subject,
        message: JSON.stringify(entries),
        timestamp: sesTimestamp(records[records.length - 1]!.at),
        subscriptionArn: this.channel.subscriptionArn,
      }),
    );
  }

  private post({ messageId, body }: SignedBody): Promise<void> {
    const client = this.url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const request = client.request(this.url, {
        method: 'POST',
        agent: this.agent,
        headers: {
          'Content-Type': 'text/plain; charset=UTF-8',
          'Content-Length': Buffer.byteLength(body),
          'User-Agent': 'Amazon Simple Notification Service Agent',
          'x-amz-sns-message-type': 'Notification',
          'x-amz-sns-message-id': messageId,
          'x-amz-sns-topic-arn': this.channel.topicArn,
          'x-amz-sns-subscription-arn': this.channel.subscriptionArn,
        },
      });
      request.setTimeout(this.options.timeoutMs, () => request.destroy(new Error(`no answer within ${this.options.timeoutMs} ms`)));
      request.on('error', reject);
      request.on('response', (response) => {
        response.on('error', reject);
        response.resume();
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else reject(new Error(`the webhook answered HTTP ${status}`));
        });
      });
      request.end(body);
    });
  }
}

interface SignedBody {
  messageId: string;
  body: string;
}

const signedBody = (notification: SnsNotification): SignedBody => ({ messageId: notification.MessageId, body: JSON.stringify(notification) });

/** A UUID-shaped id derived from the records' ids, so a batch sent again carries the same MessageId. */
function uuidFromIds(ids: readonly string[]): string {
  const hex = createHash('sha256').update(ids.join('\n')).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
