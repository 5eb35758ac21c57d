import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { brokers } from './kafka.js';
import { REPO_ROOT } from './stack.js';

const run = promisify(execFile);

/** Deletes a partition's records below `offset`, as retention would (kafka-clients' Admin.deleteRecords). */
export async function deleteRecordsBefore(
  topic: string,
  partition: number,
  offset: number,
): Promise<number> {
  const pom = readFileSync(join(REPO_ROOT, 'deploy', 'local', 'pom.xml'), 'utf8');
  const version = /<kafka.version>(.*)<\/kafka.version>/.exec(pom)![1]!;
  const cache = process.env.KGW_CACHE_DIR ?? join(homedir(), '.cache', 'kafka-gateway');
  const { stdout } = await run(
    'java',
    [
      '-cp',
      join(cache, `kafka-${version}`, 'libs', '*'),
      join(REPO_ROOT, 'test', 'support', 'java', 'DeleteRecords.java'),
      brokers(),
      topic,
      String(partition),
      String(offset),
    ],
    { timeout: 60_000 },
  );
  return Number(stdout.trim());
}
