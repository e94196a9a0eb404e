import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EventReceiver {
  /** The webhook URL, asking for batches of `batchSize` records per envelope. */
  url: string;
  /** Records received so far (each entry of a batched envelope counts). */
  records(): number;
  /** Records per event type (the `eventType` of each record). */
  byType(): Record<string, number>;
  close(): Promise<void>;
}

/** A fast local webhook that takes every envelope, counts its records by type and answers 200 (no signature check). */
export async function startEventReceiver(batchSize: number): Promise<EventReceiver> {
  const counts: Record<string, number> = {};
  let records = 0;
  const count = (message: string) => {
    const eventType = (JSON.parse(message) as { eventType?: string }).eventType ?? 'unknown';
    counts[eventType] = (counts[eventType] ?? 0) + 1;
    records++;
  };
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const envelope = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Message: string };
      const message = JSON.parse(envelope.Message) as unknown;
      if (Array.isArray(message)) for (const entry of message as Array<{ Message: string }>) count(entry.Message);
      else count(envelope.Message);
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/events?batchSize=${batchSize}`,
    records: () => records,
    byType: () => ({ ...counts }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
