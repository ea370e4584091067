import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const plugin = path.join(root, 'lint/outer-handle-in-change.grit');
const biome = path.join(root, 'node_modules/.bin/biome');

// Each line that the rule must flag ends in "// flagged".
const PROBE = `
export class Service {
  async remove(id: string) {
    await this.database.db.selectFrom('documents').execute();
    await runChange(this.database, origin, async (change) => {
      await this.database.db.selectFrom('documents').where('id', '=', id).execute(); // flagged
      await change.db.selectFrom('documents').execute();
      await this.#db.selectFrom('users').execute(); // flagged
      await find(database.db, id); // flagged
      await find(change.db, id);
    });
  }
}
export const helper = (database) => runChange(database, origin, work);
`;

const dir = mkdtempSync(path.join(tmpdir(), 'haven-lint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function lint(source: string) {
  writeFileSync(path.join(dir, 'probe.ts'), source);
  writeFileSync(
    path.join(dir, 'biome.json'),
    JSON.stringify({
      plugins: [plugin],
      linter: { enabled: true, rules: { preset: 'none' } },
      formatter: { enabled: false },
      assist: { enabled: false },
    }),
  );
  const { stdout } = await promisify(execFile)(biome, ['lint', '--reporter=json', 'probe.ts'], {
    cwd: dir,
  }).catch((error: { stdout: string }) => ({ stdout: error.stdout }));
  const report = JSON.parse(stdout) as {
    diagnostics: { category: string; location: { start: { line: number } } }[];
  };
  return report.diagnostics
    .filter((d) => d.category === 'plugin')
    .map((d) => d.location.start.line);
}

describe('the lint rule against the outer handle inside runChange (biome.json plugin)', () => {
  it('flags database.db, this.database.db and this.#db inside a runChange callback, and nothing else', async () => {
    const lines = PROBE.split('\n');
    const flagged = lines.flatMap((line, i) => (line.endsWith('// flagged') ? [i + 1] : []));
    expect(flagged).toHaveLength(3);
    expect(await lint(PROBE)).toEqual(flagged);
  });
});
