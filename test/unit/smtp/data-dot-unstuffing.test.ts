import test from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { SMTPStream } from 'smtp-server/lib/smtp-stream.js';
import { installLinearDotUnstuffing } from '../../../src/smtp/data-dot-unstuffing.js';

type Feed = (chunk: Buffer, done: () => void) => void;
const internals = (stream: SMTPStream) => stream as unknown as { _feedDataStream: Feed; dataBytes: number };

// smtp-server's own method, taken before the gateway's replaces it: the reference every case is compared with.
const smtpServerFeed = internals(SMTPStream.prototype as unknown as SMTPStream)._feedDataStream;
installLinearDotUnstuffing();
const gatewayFeed = internals(SMTPStream.prototype as unknown as SMTPStream)._feedDataStream;

interface Outcome {
  content: string;
  ended: boolean;
  dataBytes: number;
  /** Command lines after the end of data: what a smuggler would want to get in. */
  commands: string[];
}

/** Puts a stream into data mode, writes the chunks one after the other, ends it, and reports what came out. */
async function receive(feed: Feed, chunks: readonly string[]): Promise<Outcome> {
  const stream = new SMTPStream();
  internals(stream)._feedDataStream = feed;
  const commands: string[] = [];
  stream.oncommand = (command: Buffer, callback?: () => void) => {
    commands.push(command.toString('latin1'));
    callback?.();
  };
  const data = stream.startDataMode();
  let content = '';
  let ended = false;
  data.on('data', (chunk: Buffer) => (content += chunk.toString('latin1')));
  data.on('end', () => {
    ended = true;
    stream.continue();
  });
  for (const chunk of chunks) {
    stream.write(Buffer.from(chunk, 'latin1'));
    for (let turn = 0; turn < 3; turn++) await nextTurn();
  }
  stream.end();
  for (let turn = 0; turn < 5; turn++) await nextTurn();
  return { content, ended, dataBytes: internals(stream).dataBytes, commands };
}

async function sameAsSmtpServer(chunks: readonly string[]): Promise<Outcome> {
  const expected = await receive(smtpServerFeed, chunks);
  const actual = await receive(gatewayFeed, chunks);
  assert.deepEqual(actual, expected, JSON.stringify(chunks));
  return actual;
}

test('escape dots are removed and the data ends at CRLF.CRLF, the rest going back to command mode', async () => {
  assert.deepEqual(await sameAsSmtpServer(['Subject: x\r\n\r\n..leading dot\r\n...\r\nend\r\n.\r\nQUIT\r\n']), {
    content: 'Subject: x\r\n\r\n.leading dot\r\n..\r\nend\r\n',
    ended: true,
    dataBytes: 'Subject: x\r\n\r\n.leading dot\r\n..\r\nend\r\n'.length,
    commands: ['QUIT'],
  });
});

test('a message of dot lines comes out whole, in one write per chunk', async () => {
  const lines = '..x\r\n'.repeat(50_000);
  const stream = new SMTPStream();
  const data = stream.startDataMode();
  let writes = 0;
  let length = 0;
  data.on('data', (chunk: Buffer) => {
    writes++;
    length += chunk.length;
  });
  stream.write(Buffer.from(`${lines}.\r\n`, 'latin1'));
  await nextTurn();
  assert.equal(length, '.x\r\n'.length * 50_000);
  assert.equal(writes, 1, 'smtp-server wrote once per line, a loop turn apart');
});

test('cases at the edges of data mode behave as in smtp-server', async () => {
  const cases: string[][] = [
    ['.\r\n'],
    ['.', '\r\n'],
    ['.\r', '\nQUIT\r\n'],
    ['..\r\n.\r\n'],
    ['..', '\r\n.\r\n'],
    ['..\r\n', '.\r\n'],
    ['\r\n.\r\n'],
    ['a\r\n.\r', '\n'],
    ['a\r', '\n.', '\r\n'],
    ['a\r\n..', '.\r\n.\r\n'],
    ['a\n.\r\n'],
    ['a\n..b\r\n.\r\n'],
    ['a\r\n.\n'],
    ['a\r\n.x\r\n.\r\nRSET\r\nQUIT\r\n'],
    ['abc'],
    ['ab', 'c', 'd', 'e'],
    ['x\r\n..\r\n..\r\n..', '\r\n.\r\n'],
  ];
  for (const chunks of cases) await sameAsSmtpServer(chunks);
});

test('random inputs of dots, line ends and text, split at random, behave as in smtp-server', async () => {
  let seed = 20261207;
  const random = (below: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % below;
  };
  const tokens = ['.', '.', '..', '\r\n', '\r\n', '\n', '\r', 'a', 'bc', '\r\n.\r\n', '\r\n..\r\n'];
  for (let round = 0; round < 400; round++) {
    let text = '';
    const length = random(30);
    for (let index = 0; index < length; index++) text += tokens[random(tokens.length)];
    if (random(2) === 0) text += '\r\n.\r\nNOOP\r\n';
    const chunks: string[] = [];
    let start = 0;
    while (start < text.length) {
      const size = 1 + random(6);
      chunks.push(text.slice(start, start + size));
      start += size;
    }
    await sameAsSmtpServer(chunks);
    await sameAsSmtpServer([text]);
  }
});
