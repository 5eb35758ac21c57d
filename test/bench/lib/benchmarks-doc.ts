import { readFile, writeFile } from 'node:fs/promises';
import { format, resolveConfig } from 'prettier';

/** A scenario's section of docs/BENCHMARKS.md. */
export interface DocSection {
  /** The marker name: `<!-- bench:<name>:start -->`. */
  readonly name: string;
  readonly title: string;
  /** Markdown that explains the scenario; written once, above the markers. */
  readonly description: string;
  /** Markdown that replaces whatever is between the markers. */
  readonly results: string;
}

const INTRO = `# Benchmarks

Numbers from \`npm run bench -- <scenario>\`, written here by the run itself
(between the \`bench:<scenario>\` markers; edit the text outside them freely).

## Method

- **One run, one machine.** Every scenario starts with a baseline that talks
  to Kafka directly, then measures the gateway in the same run, on the same
  broker, and reports each gateway result as a ratio to that in-run baseline.
  Absolute numbers move with the machine; the ratios are what to compare.
- **Max throughput** is closed-loop: a fixed number of sends kept outstanding,
  a warm-up, then records acknowledged per second over a fixed window.
- **Latency** is open-loop, at half of that scenario's own max throughput:
  sends go out at fixed intended times whether or not earlier ones were
  answered, and each latency is measured from the intended send time to the
  response (or delivery report). A stall therefore shows up in the numbers
  instead of quietly slowing the generator down (no coordinated omission).
  Percentiles are exact (sorted samples, nearest rank). Sends leave on a 1 ms
  timer, so up to about 1 ms of every latency is the generator's own timer.
- **Machine.** The development VM has 2 cores, shared by Kafka, the gateway
  and the load generator (and by whatever else runs there, such as other
  people's test suites), so every number here is CPU-bound and noisy. The CPU
  table shows who used the cores during each window and flags windows where
  other processes took a sizeable share. Its last column, CPU time of the
  producing process per record written, is the steadiest number from run to
  run: compare that one when checking whether a change made the gateway cheaper.

## How to run

\`\`\`sh
npm run bench -- produce
\`\`\`

It uses \`KAFKA_BROKERS\` and \`REDIS_URL\` when both are set; otherwise it
starts a private 1-broker stack (\`deploy/local/stack\`) and stops it at the end
(also on Ctrl-C). It builds the gateway (\`tsc -p tsconfig.build.json\`) and
runs \`node dist/gateway/src/main.js\` as its own process. A run takes about
two minutes.
`;

function markers(name: string): { start: string; end: string } {
  return { start: `<!-- bench:${name}:start -->`, end: `<!-- bench:${name}:end -->` };
}

function sectionText(section: DocSection): string {
  const { start, end } = markers(section.name);
  return `## ${section.title}\n\n${section.description.trim()}\n\n${start}\n\n${section.results.trim()}\n\n${end}\n`;
}

/**
 * Writes a scenario's results between its markers in the doc, creating the
 * file (with the intro) or the section when missing, then formats it with the
 * project's Prettier settings so the file stays lint-clean.
 */
export async function writeDocSection(path: string, section: DocSection): Promise<void> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    text = INTRO;
  }
  const { start, end } = markers(section.name);
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from !== -1 && to > from) {
    text = `${text.slice(0, from + start.length)}\n\n${section.results.trim()}\n\n${text.slice(to)}`;
  } else {
    text = `${text.trimEnd()}\n\n${sectionText(section)}`;
  }
  const options = (await resolveConfig(path)) ?? {};
  await writeFile(path, await format(text, { ...options, filepath: path }));
}
