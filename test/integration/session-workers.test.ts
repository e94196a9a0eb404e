import test, { describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { submit } from '../support/delivery-fixture.js';
import { gatewayWithCredential } from '../support/gateway-suite.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitUntil } from '../support/wait-until.js';

/** The session workers of a gateway: the processes whose parent is its primary and that run the worker script. */
function sessionWorkers(primaryPid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return parent === primaryPid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('session-worker.js');
      } catch {
        return false;
      }
    })
    .map(Number);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('session workers (smtp.workers: 3)', () => {
  const suite = gatewayWithCredential({ config: { smtp: { workers: 3 } } });
  const message = { to: ['recipient@example.org'], subject: 'worker test' };

  test('the primary runs three worker processes, and the sessions of successive connections land on different ones', async () => {
    const primary = suite.gateway.child.pid!;
    assert.equal(sessionWorkers(primary).length, 3);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await submit(suite.gateway, suite.credential, message));
    const accepted = suite.gateway.logs.filter((record) => record.msg === 'message accepted' && ids.includes(record.messageId as string));
    assert.equal(accepted.length, 6);
    assert.ok(new Set(accepted.map((record) => record.worker)).size >= 2, JSON.stringify(accepted.map((record) => record.worker)));
  });

  test("the metrics count every worker's messages", async () => {
    // The workers pass their counts on every 200 ms.
    let metrics = '';
    for (const deadline = Date.now() + 5000; Date.now() < deadline; await sleep(100)) {
      metrics = await (await fetch(`http://127.0.0.1:${suite.gateway.metricsPort}/metrics`)).text();
      if (/^relaygate_messages_total\{channel="smtp",result="accepted",code="250"\} 6$/m.test(metrics)) break;
    }
    assert.match(metrics, /^relaygate_messages_total\{channel="smtp",result="accepted",code="250"\} 6$/m);
    assert.match(metrics, /^relaygate_smtp_connections 0$/m);
    // Each message's send-limit check is timed in its worker (the trip to the primary's limits.db included).
    assert.match(metrics, /^relaygate_send_limit_check_seconds_count 6$/m);
  });

  test('a worker killed with SIGKILL is replaced, and the gateway goes on accepting mail', async () => {
    const primary = suite.gateway.child.pid!;
    const [victim] = sessionWorkers(primary);
    process.kill(victim!, 'SIGKILL');
    await waitUntil(() => suite.gateway.logs.some((record) => String(record.msg).startsWith('session worker died')), 'the primary to notice the dead worker', 5000);
    await waitUntil(() => sessionWorkers(primary).length === 3 && !sessionWorkers(primary).includes(victim!), 'a replacement worker', 10_000);
    for (let i = 0; i < 4; i++) assert.match(await submit(suite.gateway, suite.credential, message), /^[0-9a-f]{16}-/);
  });

  test('when the primary dies (SIGKILL), its workers exit with it', async () => {
    const workers = sessionWorkers(suite.gateway.child.pid!);
    assert.equal(workers.length, 3);
    await suite.gateway.kill();
    await waitUntil(() => workers.every((pid) => !alive(pid)), 'the workers to exit', 5000);
  });
});
