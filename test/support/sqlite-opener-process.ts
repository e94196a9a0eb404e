/**
 * A child process for tests of openSqlite across processes: for each path the parent sends, it opens the file as every
 * relaygate store does, closes it, and answers "ok" or the error's code and message.
 */
import { openSqlite } from '../../src/store/sqlite/database.js';

const MIGRATIONS = ['CREATE TABLE seen (value TEXT PRIMARY KEY);'];

process.on('message', (path: string) => {
  try {
    openSqlite(path, { migrations: MIGRATIONS }).close();
    process.send?.('ok');
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    process.send?.(`${code ?? 'error'}: ${message}`);
  }
});
process.send?.('ready');
