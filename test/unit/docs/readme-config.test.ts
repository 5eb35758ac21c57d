import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configTable } from '../../support/config-table.js';
import { REPO_ROOT } from '../../support/stack.js';

function cells(table: string): string[][] {
  return table
    .trim()
    .split('\n')
    .filter((row) => !/^\|[\s|-]+\|$/.test(row))
    .map((row) =>
      row
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
}

describe('README.md configuration table', () => {
  it('matches the configuration schema', () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const match = /<!-- config:start -->\n([\s\S]*?)\n<!-- config:end -->/.exec(readme);
    expect(match, 'README.md lacks the config:start/config:end markers').not.toBeNull();
    // Compare cell by cell: Prettier pads markdown tables.
    expect(cells(match![1]!)).toEqual(cells(configTable()));
  });

  it('puts the two commands (start everything, run all tests) before anything else', () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(firstBlock).toMatch(/^npm run dev\b/m);
    expect(firstBlock).toMatch(/^npm test\b/m);
  });
});
