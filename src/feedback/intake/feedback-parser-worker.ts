import { parentPort } from 'node:worker_threads';
import { readFeedback } from './read-feedback.js';

/** A thread of the FeedbackParserPool: reads the messages it is sent, answers with the Feedback (plain data). */
parentPort?.on('message', ({ id, raw }: { id: number; raw: Uint8Array }) => {
  readFeedback(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)).then(
    (feedback) => parentPort?.postMessage({ id, feedback }),
    (error: unknown) => parentPort?.postMessage({ id, error: (error as Error).message }),
  );
});
