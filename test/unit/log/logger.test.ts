import test from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../../src/log/logger.js';
import { redactSecrets } from '../../../src/log/redact-secrets.js';

/** A logger writing to memory, and the JSON records it wrote. */
function capturedLogger() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      callback();
    },
  });
  const log = createLogger({ level: 'info' }, destination);
  return { log, records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>), text: () => lines.join('\n') };
}

test('secrets logged by mistake, at the top of a record or one level down, come out redacted', () => {
  const { log, records, text } = capturedLogger();
  log.info({ user: 'AKIAEXAMPLE', password: 'hunter2', credential: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI', smtpPassword: 'BExample+' } }, 'auth');
  const [record] = records();
  assert.equal(record!.user, 'AKIAEXAMPLE');
  assert.equal(record!.password, '[redacted]');
  assert.deepEqual(record!.credential, { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: '[redacted]', smtpPassword: '[redacted]' });
  for (const secret of ['hunter2', 'wJalrXUtnFEMI', 'BExample+']) assert.ok(!text().includes(secret), secret);
});

test("a child logger's bindings are redacted too", () => {
  const { log, records, text } = capturedLogger();
  log.child({ session: 's1', smtpPassword: 'BExample+' }).info('opened');
  assert.equal(records()[0]!.smtpPassword, '[redacted]');
  assert.equal(records()[0]!.session, 's1');
  assert.ok(!text().includes('BExample+'));
});

test('an error carrying a secret keeps its message, type and stack, without the secret', () => {
  const { log, records, text } = capturedLogger();
  const error = Object.assign(new TypeError('login refused'), { password: 'hunter2', code: 'EAUTH' });
  log.error({ err: error }, 'delivery failed');
  const err = records()[0]!.err as Record<string, unknown>;
  assert.equal(err.type, 'TypeError');
  assert.equal(err.message, 'login refused');
  assert.equal(err.code, 'EAUTH');
  assert.equal(err.password, '[redacted]');
  assert.match(err.stack as string, /^TypeError: login refused\n {4}at /);
  assert.ok(!text().includes('hunter2'));
  assert.equal(error.password, 'hunter2', 'the logged error itself is left as it was');
});

test('a record without secrets is passed on as it is; one with secrets is copied, not changed', () => {
  const record = { messageId: 'm1', recipients: ['a@example.com'], body: Buffer.from('password'), nested: { accountId: '1' } };
  assert.equal(redactSecrets(record), record);
  const withSecret = { nested: { password: 'p' } };
  assert.deepEqual(redactSecrets(withSecret), { nested: { password: '[redacted]' } });
  assert.deepEqual(withSecret, { nested: { password: 'p' } });
});
