import { appendFileSync } from 'node:fs';

/**
 * Prints a fault test's counts (sent, acknowledged, found in Kafka, duplicates,
 * lost…) as one line, and appends it to $KGW_FAULT_REPORT when set, so a run
 * of `npm run test:faults` leaves the table docs/RELIABILITY.md quotes.
 */
export function recordReport(scenario: string, counts: Record<string, string | number>): void {
  const line = `${scenario}: ${Object.entries(counts)
    .map(([name, value]) => `${name} ${value}`)
    .join(', ')}`;
  console.log(line);
  const file = process.env.KGW_FAULT_REPORT;
  if (file) appendFileSync(file, `${JSON.stringify({ scenario, ...counts })}\n`);
}
