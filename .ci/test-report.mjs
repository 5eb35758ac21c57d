// After a failed test run: names the test files that did not pass, including
// any whose worker died before it reported (vitest then counts it nowhere).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const [reportPath] = process.argv.slice(2);
const root = process.cwd();
let report = { testResults: [] };
try {
  report = JSON.parse(readFileSync(reportPath, 'utf8'));
} catch (err) {
  console.log(`ci: no test report at ${reportPath} (${err.message})`);
}
const seen = new Map(report.testResults.map((r) => [relative(root, r.name), r.status]));
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.test.ts')) files.push(relative(root, path));
  }
};
walk(join(root, 'test'));
for (const file of files.sort()) {
  const status = seen.get(file);
  if (status === undefined) console.log(`ci: ${file}: no result (its worker exited?)`);
  else if (status !== 'passed') console.log(`ci: ${file}: ${status}`);
}
