/**
 * smtp-server 3.21.x removes the escape dot of a dot-stuffed DATA line (RFC 5321 4.5.2) by writing what came before
 * it, then going round the event loop (setImmediate) and scanning the rest of the chunk again: a message of lines that
 * start with a dot cost one loop turn and one tiny write through the whole message pipeline per line (an 8 MB message
 * of them took 25 s of a session worker against 0.4 s for ordinary lines). This replaces that method of its data
 * mode with one pass per chunk that writes the chunk's content, escape dots left out, at once.
 *
 * Everything else is as smtp-server does it, and is what keeps DATA from being ended early (SMTP smuggling): the
 * last 4 bytes of a chunk are held back and scanned again with the next one; only `\r\n.\r\n` ends the data, and a
 * single dot on the first line only while nothing has been taken yet; a dot after a line feed that a dot follows is
 * an escape; what follows the end of data is handed back to command mode. package.json pins the version, and
 * test/unit/smtp/data-dot-unstuffing.test.ts compares this pass with smtp-server's own on every split of its inputs.
 */
import type { PassThrough } from 'node:stream';
import { SMTPStream } from 'smtp-server/lib/smtp-stream.js';

const END_OF_DATA = Buffer.from('\r\n.\r\n');
const LINE_FEED_DOT = Buffer.from('\n.');
const DOT = 0x2e;
/** Bytes of a chunk's end kept back: a `\r\n.\r\n` cut by the chunk boundary is found with the next chunk. */
const HELD_BACK = 4;

interface DataModeInternals {
  _dataStream: PassThrough & { writable: boolean; destroyed: boolean };
  _lastBytes: Buffer | false;
  _atDataStart: boolean;
  _countDataBytes(length: number): void;
  _endDataMode(chunk: Buffer | false, remainder: Buffer, callback: () => void): void;
  _feedDataStream(chunk: Buffer, done: () => void): void;
}

const prototype = SMTPStream.prototype as unknown as DataModeInternals;
let installed = false;

export function installLinearDotUnstuffing(): void {
  if (installed) return;
  installed = true;
  prototype._feedDataStream = feedDataStream;
}

function feedDataStream(this: DataModeInternals, input: Buffer, done: () => void): void {
  const dataStream = this._dataStream;
  let chunk = input;
  if (this._lastBytes && this._lastBytes.length > 0) {
    chunk = Buffer.concat([this._lastBytes, chunk], this._lastBytes.length + chunk.length);
    this._lastBytes = false;
  }
  if (this._atDataStart && chunk.length >= 3 && chunk[0] === DOT && chunk[1] === 0x0d && chunk[2] === 0x0a) {
    this._endDataMode(false, chunk.subarray(3), done);
    return;
  }
  let start = 0;
  if (this._atDataStart && chunk.length >= 2 && chunk[0] === DOT && chunk[1] === DOT) {
    start = 1;
    this._atDataStart = false;
  }

  // The content, as slices of the chunk between escape dots.
  const pieces: Buffer[] = [];
  let pieceStart = start;
  // smtp-server looks at dots from the third byte of what it scans, and scans again from the third byte after an
  // escape dot: the first dot it could see after an escape at `dot` is at dot + 3.
  let from = start + 1;
  for (;;) {
    const lineFeed = chunk.indexOf(LINE_FEED_DOT, from);
    const dot = lineFeed + 1;
    // The dot needs two bytes after it, as in smtp-server's scan (`i < len - 2`).
    if (lineFeed === -1 || dot >= chunk.length - 2) break;
    // A dot is found two bytes or more into what is left after an escape, so dot - 2 is still content of this piece.
    if (chunk.compare(END_OF_DATA, 0, END_OF_DATA.length, dot - 2, dot + 3) === 0) {
      pieces.push(chunk.subarray(pieceStart, dot));
      const content = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
      this._countDataBytes(content.length);
      this._endDataMode(content, chunk.subarray(dot + 3), done);
      return;
    }
    if (chunk[dot + 1] === DOT) {
      pieces.push(chunk.subarray(pieceStart, dot));
      pieceStart = dot + 1;
      from = dot + 2;
      continue;
    }
    from = dot;
  }

  // Hold back the last bytes of what follows the last escape dot (all of it when that is shorter).
  const heldFrom = Math.max(pieceStart, chunk.length - HELD_BACK);
  this._lastBytes = chunk.subarray(heldFrom);
  if (heldFrom > pieceStart) pieces.push(chunk.subarray(pieceStart, heldFrom));
  const content = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
  if (content.length === 0) return done();
  this._countDataBytes(content.length);
  if (!dataStream.writable) return done();
  if (dataStream.write(content) || dataStream.destroyed) return done();
  // A stream that the application destroys never drains, it only closes.
  const onDrain = () => {
    dataStream.removeListener('drain', onDrain);
    dataStream.removeListener('close', onDrain);
    done();
  };
  dataStream.once('drain', onDrain);
  dataStream.once('close', onDrain);
}
