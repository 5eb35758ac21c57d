import { SETTINGS, type Setting } from '../../gateway/src/config/schema.js';

/** The README's configuration table, as the schema says it should read. */
export function configTable(): string {
  const rows = (Object.values(SETTINGS) as Setting<unknown>[]).map(
    (s) =>
      `| \`${s.env}\` | ${s.default === undefined ? '(required)' : `\`${s.default}\``} | ${s.doc} |`,
  );
  return ['| Variable | Default | Meaning |', '| --- | --- | --- |', ...rows].join('\n');
}
