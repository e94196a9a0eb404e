import { createVerify } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One POST as an SNS HTTP subscriber sees it, after checking its signature. */
export interface ReceivedNotification {
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The envelope as parsed, keys in the order they came. */
  envelope: Record<string, string>;
  /** The record(s) inside: `Message` parsed as JSON. */
  message: unknown;
}

/**
 * A webhook that does what an SNS HTTP subscriber does with every POST, following SNS's documented verification:
 * the SigningCertURL must be on a trusted host (here 127.0.0.1), the certificate is fetched from it, the string to
 * sign is rebuilt from Message, MessageId, Subject (if present), Timestamp, TopicArn and Type ("Key\nvalue\n" each)
 * and the Signature checked with RSA-SHA256 (SignatureVersion 2). A message that fails gets 403 and is counted.
 */
export class SnsReceiver {
  readonly received: ReceivedNotification[] = [];
  readonly rejected: string[] = [];
  /** Answer this HTTP status instead of 200 (e.g. 503 while "down"); null answers 200. */
  failWith: number | null = null;
  private server: http.Server | null = null;
  private readonly certificates = new Map<string, string>();
  private waiters: Array<() => void> = [];
  port = 0;

  /** `verify` checks each envelope (default: SNS's algorithm with 127.0.0.1 as the trusted host). */
  constructor(private readonly verify: (envelope: Record<string, string>) => Promise<void> = (envelope) => verifySnsSignature(envelope, (url) => this.certificate(url))) {}

  /** Listens on 127.0.0.1 (on `port`, or a free one). */
  async start(port = 0): Promise<this> {
    const server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        this.handle(request, Buffer.concat(chunks).toString('utf8')).then(
          (status) => response.writeHead(status).end(),
          (error: unknown) => {
            this.rejected.push(String(error));
            response.writeHead(403).end();
          },
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  url(path = '/events'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Waits until `predicate` holds for what was received; fails after `timeoutMs`. */
  async waitFor(predicate: (received: ReceivedNotification[]) => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.received)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`webhook: condition not met within ${timeoutMs} ms; received ${this.received.length}, rejected ${JSON.stringify(this.rejected)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private async handle(request: http.IncomingMessage, body: string): Promise<number> {
    if (this.failWith !== null) return this.failWith;
    const envelope = JSON.parse(body) as Record<string, string>;
    await this.verify(envelope);
    this.received.push({ path: request.url ?? '', headers: request.headers, envelope, message: JSON.parse(envelope.Message!) });
    for (const wake of this.waiters.splice(0)) wake();
    return 200;
  }

  private async certificate(url: string): Promise<string> {
    let pem = this.certificates.get(url);
    if (!pem) {
      const response = await fetch(url);
      if (response.status !== 200) throw new Error(`certificate ${url}: HTTP ${response.status}`);
      pem = await response.text();
      this.certificates.set(url, pem);
    }
    return pem;
  }
}

const SIGNED_KEYS = ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'];

/** SNS's verification of a Notification, with 127.0.0.1 as the only trusted certificate host. */
export async function verifySnsSignature(envelope: Record<string, string>, fetchCertificate: (url: string) => Promise<string>): Promise<void> {
  if (envelope.Type !== 'Notification') throw new Error(`unexpected Type ${envelope.Type}`);
  if (envelope.SignatureVersion !== '2') throw new Error(`unexpected SignatureVersion ${envelope.SignatureVersion}`);
  const certUrl = new URL(envelope.SigningCertURL ?? '');
  if (certUrl.hostname !== '127.0.0.1' || !certUrl.pathname.endsWith('.pem')) throw new Error(`untrusted SigningCertURL ${envelope.SigningCertURL}`);
  const stringToSign = SIGNED_KEYS.filter((key) => key in envelope)
    .map((key) => `${key}\n${envelope[key]}\n`)
    .join('');
  const verifier = createVerify('RSA-SHA256');
  verifier.update(stringToSign, 'utf8');
  if (!verifier.verify(await fetchCertificate(certUrl.toString()), envelope.Signature ?? '', 'base64')) throw new Error(`bad signature on ${envelope.MessageId}`);
}
