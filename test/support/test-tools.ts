import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './stack.js';

export const TEST_TOOLS_SCRIPT = join(REPO_ROOT, 'deploy', 'local', 'test-tools');

/**
 * Runs deploy/local/test-tools (installs redis-server, prometheus, grpcurl, …
 * when missing; its progress shows on stderr), then puts the directory it
 * installs into on this process's PATH, which the test workers inherit.
 */
export async function ensureTestTools(): Promise<void> {
  const child = spawn(TEST_TOOLS_SCRIPT, [], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    process.stderr.write(chunk);
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) {
    // The script's last line names the missing tool and the command that installs it.
    const last = stderr.trim().split('\n').at(-1) ?? '';
    throw new Error(`deploy/local/test-tools exited with ${code}: ${last}`);
  }
  const bin = /^export PATH="(.*):\$PATH"$/m.exec(stdout)?.[1];
  if (!bin) throw new Error(`deploy/local/test-tools printed no PATH line:\n${stdout}`);
  process.env.PATH = `${bin}:${process.env.PATH ?? ''}`;
}
