import test from 'node:test';
import assert from 'node:assert/strict';
import { daysBetween, nextUtcDay, utcDay, warmupDailyLimit } from '../../../src/delivery/warmup-schedule.js';

const config = { days: 45, firstDayLimit: 50, lastDayLimit: 20_000 };

test('the daily limit grows by the same factor each day from the first to the last day, then there is none', () => {
  assert.equal(warmupDailyLimit(0, config), 50);
  assert.equal(warmupDailyLimit(44, config), 20_000);
  assert.equal(warmupDailyLimit(45, config), null);
  assert.equal(warmupDailyLimit(22, config), Math.round(50 * 400 ** 0.5));
  const limits = Array.from({ length: 45 }, (_, day) => warmupDailyLimit(day, config)!);
  assert.ok(limits.every((limit, day) => day === 0 || limit > limits[day - 1]!), 'strictly growing');
  assert.equal(warmupDailyLimit(-3, config), 50, 'a start date in the future counts as the first day');
  assert.equal(warmupDailyLimit(0, { days: 1, firstDayLimit: 10, lastDayLimit: 10 }), 10);
});

test('UTC days', () => {
  const time = Date.parse('2026-11-23T23:59:59.999Z');
  assert.equal(utcDay(time), '2026-11-23');
  assert.equal(nextUtcDay(time), Date.parse('2026-11-24T00:00:00Z'));
  assert.equal(daysBetween('2026-10-30', '2026-11-23'), 24);
});
