import type { SqliteDatabase } from '../store/sqlite/database.js';
import type { SourceVolumeStore } from './queue-store.js';

export class SqliteSourceVolume implements SourceVolumeStore {
  constructor(private readonly db: SqliteDatabase) {}

  recipientsOn(day: string): Map<string, number> {
    const rows = this.db.prepare('SELECT address, recipients FROM source_volume WHERE day = ?').all(day) as Array<{ address: string; recipients: number }>;
    return new Map(rows.map((row) => [row.address, row.recipients]));
  }

  warmupStarts(): Map<string, string> {
    const rows = this.db.prepare('SELECT address, started_on FROM source_warmup').all() as Array<{ address: string; started_on: string }>;
    return new Map(rows.map((row) => [row.address, row.started_on]));
  }

  startWarmup(address: string, day: string): void {
    this.db.prepare('INSERT OR IGNORE INTO source_warmup (address, started_on) VALUES (?, ?)').run(address, day);
  }

  pruneBefore(day: string): void {
    this.db.prepare('DELETE FROM source_volume WHERE day < ?').run(day);
  }
}
