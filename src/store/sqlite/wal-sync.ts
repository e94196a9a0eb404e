import { closeSync, fdatasync, openSync } from 'node:fs';
import { promisify } from 'node:util';
import type { SqliteDatabase } from './database.js';
import { withoutFsync } from './without-fsync.js';

const fileDatasync = promisify(fdatasync);

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Makes commits written with synchronous=NORMAL (withoutFsync) durable by fdatasyncing the database's WAL file in
 * libuv's thread pool, so the event loop does not stand still for the disk (SQLite's own FULL commit fsyncs on the
 * calling thread). Callers that arrive while an fdatasync runs share the next one: one fsync for all of them, as a
 * group commit. The WAL keeps its inode while the connection is open (SQLite deletes it only when the last one
 * closes), so one descriptor serves the connection's lifetime.
 */
export class WalSync {
  private fd: number | null = null;
  private syncing = false;
  private closed = false;
  private waiting: Waiter[] = [];

  /** `datasync` is the system call, replaceable to observe how callers are grouped. */
  constructor(
    private readonly walPath: string,
    private readonly datasync: (fd: number) => Promise<void> = fileDatasync,
  ) {}

  /**
   * Runs `write` (a transaction of `db`, whose WAL this is) without SQLite's fsync: committed, or thrown, when this
   * returns; the promise gives its result once it is on disk.
   */
  commit<T>(db: SqliteDatabase, write: () => T): Promise<T> {
    const result = withoutFsync(db, write);
    return this.sync().then(() => result);
  }

  /** Resolves once everything committed before the call is on disk. */
  sync(): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`${this.walPath} is closed`));
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      if (!this.syncing) void this.run();
    });
  }

  /** Closes the descriptor, after the fdatasync in progress if there is one. */
  close(): void {
    this.closed = true;
    if (!this.syncing) this.release();
  }

  private async run(): Promise<void> {
    this.syncing = true;
    while (this.waiting.length > 0) {
      // Those who came during the previous fdatasync may have committed after it began: they get one of their own.
      const batch = this.waiting;
      this.waiting = [];
      try {
        this.fd ??= openSync(this.walPath, 'r');
        await this.datasync(this.fd);
        for (const waiter of batch) waiter.resolve();
      } catch (error) {
        for (const waiter of batch) waiter.reject(error);
      }
    }
    this.syncing = false;
    if (this.closed) this.release();
  }

  private release(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
