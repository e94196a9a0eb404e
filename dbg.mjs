import { SqliteQueueStore } from './dist/src/queue/sqlite-queue-store.js';
import { mkdtempSync } from 'node:fs';
const q = SqliteQueueStore.open(mkdtempSync('/tmp/dbg-'));
const ev = (id) => ({ id, type: 'Send', messageId: 'm', accountId: 'a', configurationSet: null, at: 1, mail: {}, detail: {} });
for (let i = 0; i < 5; i++) q.events.append([ev('e' + i)]);
console.log(q.events.read('r1', 1000).map(e => e.seq));
q.events.append([ev('x')]);
await null;
console.log(q.events.read('r2', 1000).map(e => e.seq));
