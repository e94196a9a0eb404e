import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFuzzReport } from '../../bench/fuzz/fuzz-report.js';
import { runFuzz, type FuzzResult } from '../../bench/fuzz/fuzz-run.js';

/**
 * Above the gateway's smtp.tlsHandshakeTimeoutSeconds (10 s), as the fuzzer's own default: a session of this seed
 * sends, after STARTTLS, the start of a TLS record that announces more bytes than follow, and the gateway waits for
 * them until that timeout. With a deadline of 10 s too, which came first was a matter of timer jitter.
 */
const HANG_DEADLINE_MS = 15_000;

/**
 * The fuzzer (bench/fuzz, `npm run fuzz`) for a fixed seed and 20,000 lines: a real gateway, sessions mixing valid
 * and malformed SMTP, delivery to a sink MX. A failure prints the report, with the seed of each session that found
 * something (`npm run fuzz -- --session SEED` replays it with its dialogue).
 */
describe('fuzzing the SMTP session and the message pipeline (seed 1, 20,000 lines)', () => {
  let result: FuzzResult;
  let report = '';
  before(
    async () => {
      result = await runFuzz({ seed: 1, lines: 20_000, concurrency: 8, deadlineMs: HANG_DEADLINE_MS, drainTimeoutMs: 10_000 });
      report = formatFuzzReport(result);
    },
    { timeout: 240_000 },
  );
  after(() => {
    if (report) process.stderr.write(`${report}\n`);
  });

  test('the gateway does not crash', () => {
    assert.deepEqual(result.crashes, [], report);
  });

  test('the gateway never hangs: every reply, handshake and announced close comes within 15 s', () => {
    assert.equal(result.counts.hangs, 0, report);
  });

  test('every reply is well-formed (RFC 5321 4.2) and answers a command', () => {
    assert.deepEqual({ malformed: result.counts.malformed, unsolicited: result.counts.desyncs }, { malformed: 0, unsolicited: 0 }, report);
  });

  test('the run reached the pipeline, and every accepted message for the sink was delivered', () => {
    assert.ok(result.lines >= 20_000, report);
    assert.ok(result.accepted > 0, report);
    assert.equal(result.sink.delivered, result.acceptedForSink, report);
  });

  test('nothing delivered contains a NUL, a bare CR or LF, or a line over 998 bytes', () => {
    const { withNul, withBareLineEnding, withLongLine } = result.sink;
    assert.deepEqual({ withNul, withBareLineEnding, withLongLine }, { withNul: 0, withBareLineEnding: 0, withLongLine: 0 }, report);
  });
});
