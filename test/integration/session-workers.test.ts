import test, { describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { submit } from '../support/delivery-fixture.js';
import { gatewayWithCredential } from '../support/gateway-suite.js';
import { sessionWorkers, whileStopped } from '../support/session-workers.js';
import { SmtpDialog } from '../support/smtp-dialog.js';
import { waitUntil } from '../support/wait-until.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('session workers (smtp.workers: 3)', () => {
  // Two failures of one user name at one address block it there, without a delay before the 535.
  const suite = gatewayWithCredential({ config: { smtp: { workers: 3 }, authThrottle: { freeFailures: 5, blockAfterFailures: 2 } } });
  const message = { to: ['recipient@example.org'], subject: 'worker test' };
  /** What the primary logged about its workers: why one is missing, when a count is wrong. */
  const workerLog = () => JSON.stringify(suite.gateway.logs.filter((record) => /worker/.test(String(record.msg))));

  async function authReply(localAddress: string, password: string): Promise<string> {
    const dialog = await SmtpDialog.open({ port: suite.gateway.tlsPorts[0]!, tls: true, localAddress });
    try {
      await dialog.reply();
      await dialog.ehlo();
      return await dialog.authPlain(suite.credential.user, password);
    } finally {
      dialog.close();
    }
  }

  test('the primary runs three worker processes, and each of them takes sessions on the shared listeners', async () => {
    const workers = sessionWorkers(suite.gateway.child.pid!);
    assert.equal(workers.length, 3, workerLog());
    const ids: string[] = [];
    // Each worker in turn with the other two stopped, so the connection can only be its; then three more, anywhere.
    for (const worker of workers) ids.push(await whileStopped(workers.filter((other) => other !== worker), () => submit(suite.gateway, suite.credential, message)));
    for (let i = 0; i < 3; i++) ids.push(await submit(suite.gateway, suite.credential, message));
    const accepted = suite.gateway.logs.filter((record) => record.msg === 'message accepted' && ids.includes(record.messageId as string));
    assert.equal(accepted.length, 6);
    const byWorker = new Map(accepted.map((record) => [record.messageId, record.worker]));
    assert.equal(new Set(ids.slice(0, 3).map((id) => byWorker.get(id))).size, 3, JSON.stringify([...byWorker]));
  });

  test("each worker runs with 4 MB semi-spaces, an old generation limit of at least 32 MB and without V8's pretenuring; the primary keeps its pretenuring and V8's limits", () => {
    const argumentsOf = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const workers = sessionWorkers(suite.gateway.child.pid!);
    assert.equal(workers.length, 3, workerLog());
    for (const worker of workers) {
      const flags = argumentsOf(worker);
      for (const flag of ['--no-allocation-site-pretenuring', '--max-semi-space-size=4', '--initial-old-space-size=32']) assert.ok(flags.includes(flag), `${flag} missing: ${flags.join(' ')}`);
    }
    const primaryFlags = argumentsOf(suite.gateway.child.pid!);
    assert.ok(!primaryFlags.includes('--no-allocation-site-pretenuring') && !primaryFlags.includes('--initial-old-space-size=32'), primaryFlags.join(' '));
  });

  test("a scrape counts every worker's messages, those accepted just before it too", async () => {
    // The workers pass their counts on every 200 ms, and at once when a scrape asks: the seventh message is counted
    // although it was accepted a moment ago.
    await submit(suite.gateway, suite.credential, message);
    const metrics = await (await fetch(`http://127.0.0.1:${suite.gateway.metricsPort}/metrics`)).text();
    assert.match(metrics, /^relaygate_messages_total\{channel="smtp",result="accepted",code="250"\} 7$/m);
    assert.match(metrics, /^relaygate_smtp_connections 0$/m);
    // Each message's send-limit check is timed in its worker (the trip to the primary's limits.db included).
    assert.match(metrics, /^relaygate_send_limit_check_seconds_count 7$/m);
  });

  test('an AUTH block set through one worker refuses the client on the others, and on a worker started after it', async () => {
    const primary = suite.gateway.child.pid!;
    const [first, second, third] = sessionWorkers(primary);
    const BLOCKED = '421 Too many failed authentication attempts, try again later';
    const blockedAddress = '127.0.0.21';
    await whileStopped([second!, third!], async () => {
      assert.equal(await authReply(blockedAddress, 'typo'), '535 Authentication Credentials Invalid');
      assert.equal(await authReply(blockedAddress, 'typo'), '535 Authentication Credentials Invalid');
    });
    await whileStopped([first!, third!], async () => {
      assert.equal(await authReply(blockedAddress, suite.credential.password), BLOCKED, 'refused by a worker that saw none of the failures');
      assert.equal(await authReply('127.0.0.22', suite.credential.password), '235 Authentication successful', 'another address is not blocked');
    });
    process.kill(second!, 'SIGKILL');
    await waitUntil(() => sessionWorkers(primary).length === 3 && !sessionWorkers(primary).includes(second!), 'a replacement worker', 10_000);
    // With the two workers that saw the block stopped, only the replacement, started after it, can take the connection.
    await whileStopped([first!, third!], async () => {
      assert.equal(await authReply(blockedAddress, suite.credential.password), BLOCKED, 'refused by the replacement, started after the block');
    });
  });

  test('a worker killed with SIGKILL is replaced, and the gateway goes on accepting mail', async () => {
    const primary = suite.gateway.child.pid!;
    const [victim] = sessionWorkers(primary);
    process.kill(victim!, 'SIGKILL');
    await waitUntil(() => suite.gateway.logs.some((record) => String(record.msg).startsWith('session worker died')), 'the primary to notice the dead worker', 5000);
    await waitUntil(() => sessionWorkers(primary).length === 3 && !sessionWorkers(primary).includes(victim!), 'a replacement worker', 10_000);
    for (let i = 0; i < 4; i++) assert.match(await submit(suite.gateway, suite.credential, message), /^[0-9a-f]{16}-/);
  });

  test('a replacement worker that dies before it listens is replaced in turn', async () => {
    const primary = suite.gateway.child.pid!;
    const before = sessionWorkers(primary);
    process.kill(before[0]!, 'SIGKILL');
    // The replacement is killed as soon as it exists: it is still loading the program, far from listening.
    let replacement: number | undefined;
    await waitUntil(() => (replacement = sessionWorkers(primary).find((pid) => !before.includes(pid))) !== undefined, 'a replacement worker', 10_000);
    process.kill(replacement!, 'SIGKILL');
    await waitUntil(() => suite.gateway.logs.some((record) => record.msg === 'a replacement session worker failed to start; trying again'), 'the failed start to be logged', 10_000);
    await waitUntil(() => sessionWorkers(primary).filter((pid) => !before.includes(pid) && pid !== replacement).length === 1, 'another replacement worker', 10_000);
    await waitUntil(() => sessionWorkers(primary).length === 3, 'three workers again', 10_000);
    // Each worker takes a session with the other two stopped: the last replacement listens.
    const workers = sessionWorkers(primary);
    for (const worker of workers) assert.match(await whileStopped(workers.filter((other) => other !== worker), () => submit(suite.gateway, suite.credential, message)), /^[0-9a-f]{16}-/);
  });

  test('when the primary dies (SIGKILL), its workers exit with it', async () => {
    const workers = sessionWorkers(suite.gateway.child.pid!);
    assert.equal(workers.length, 3, workerLog());
    await suite.gateway.kill();
    await waitUntil(() => workers.every((pid) => !alive(pid)), 'the workers to exit', 5000);
  });
});
