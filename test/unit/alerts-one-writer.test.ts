import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const src = path.resolve(import.meta.dirname, '../../src');
const writer = path.join('modules', 'notifications', 'alerts.ts');

// Kysely's insertInto('alerts') or "insert into alerts" in raw SQL, quoted or not.
const WRITES_ALERTS = /insertInto\(\s*['"`]alerts['"`]|insert\s+into\s+["`]?alerts\b/i;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'migrations' ? [] : sources(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

describe('alerts have one writer (src/modules/notifications/alerts.ts)', () => {
  it('recognises a write to alerts, in Kysely or in raw SQL', () => {
    expect(WRITES_ALERTS.test(`db.insertInto('alerts').values(row)`)).toBe(true);
    expect(WRITES_ALERTS.test('sql`INSERT INTO alerts (id) values (1)`')).toBe(true);
    expect(WRITES_ALERTS.test(`db.insertInto('alert_states').values(row)`)).toBe(false);
    expect(WRITES_ALERTS.test(`db.selectFrom('alerts')`)).toBe(false);
  });

  it('no other source file inserts into alerts', () => {
    const files = sources(src);
    const writers = files
      .filter((file) => WRITES_ALERTS.test(readFileSync(file, 'utf8')))
      .map((file) => path.relative(src, file));
    expect(writers).toEqual([writer]);
  });
});
