import test from 'node:test';
import assert from 'node:assert/strict';
import { FeedbackRecorder } from '../../../src/feedback/intake/feedback-recorder.js';
import type { FeedbackBatch, FeedbackRecords } from '../../../src/queue/feedback-records.js';

/** Records what each commit contained; `fail` makes the next commit throw. */
function recordingStore() {
  const commits: string[][] = [];
  let fail = false;
  const records: FeedbackRecords = {
    delivery: () => null,
    message: () => null,
    record(batch: FeedbackBatch) {
      if (fail) throw new Error('disk full');
      commits.push(batch.bounces.map((bounce) => bounce.recipient));
    },
  };
  return { records, commits, failNext: () => (fail = true) };
}

const batch = (recipient: string): FeedbackBatch => ({ events: [], bounces: [{ messageId: 'm', recipient, bounceType: 'Permanent', bounceSubType: 'General', category: 'c' }] });

test('with nothing else being read, a report is committed at once, on its own', async () => {
  const { records, commits } = recordingStore();
  const recorder = new FeedbackRecorder(records, () => 0);
  await recorder.record(batch('a'));
  await recorder.record(batch('b'));
  assert.deepEqual(commits, [['a'], ['b']]);
});

test('reports still being read are waited for, so a burst shares one commit', async () => {
  const { records, commits } = recordingStore();
  let reading = 2;
  const recorder = new FeedbackRecorder(records, () => reading, 60_000);
  reading--;
  const first = recorder.record(batch('a'));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(commits, [], 'one report is still being read');
  reading--;
  await Promise.all([first, recorder.record(batch('b'))]);
  assert.deepEqual(commits, [['a', 'b']]);
});

test('a report that ends without a batch releases the waiting ones; the wait is bounded anyway', async () => {
  const { records, commits } = recordingStore();
  let reading = 1;
  const recorder = new FeedbackRecorder(records, () => reading, 50);
  const waiting = recorder.record(batch('a'));
  reading = 0;
  recorder.settled();
  await waiting;
  assert.deepEqual(commits, [['a']]);
  reading = 5;
  const started = Date.now();
  await recorder.record(batch('b'));
  assert.ok(Date.now() - started >= 45, 'it waited for the others');
  assert.deepEqual(commits, [['a'], ['b']], 'then committed although they are still being read');
});

test('a failed commit fails every report in it (the sessions answer 451), and the next commit is fresh', async () => {
  const { records, commits, failNext } = recordingStore();
  const recorder = new FeedbackRecorder(records, () => 0);
  failNext();
  await assert.rejects(recorder.record(batch('a')), { message: 'disk full' });
  assert.deepEqual(commits, []);
});
