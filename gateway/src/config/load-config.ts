import { GatewayError } from '../errors.js';
import { SETTINGS, TOOLING_VARIABLES, type Config, type Setting } from './schema.js';

/** Prefix of the variables this gateway owns; an unknown one is a typo and fails the boot. */
const OWN_PREFIX = 'KGW_';

/**
 * Parses the environment into one frozen Config. Every problem is reported at
 * once, each naming its variable, as a KGW_CONFIG_INVALID error.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  const known = new Set<string>();

  for (const [key, setting] of Object.entries(SETTINGS) as [string, Setting<unknown>][]) {
    known.add(setting.env);
    const raw = env[setting.env] ?? setting.default;
    if (raw === undefined) {
      problems.push(`${setting.env} is required: ${setting.doc}`);
      continue;
    }
    try {
      values[key] = setting.parse(raw);
    } catch (err) {
      problems.push(`${setting.env}: ${(err as Error).message}`);
    }
  }
  for (const name of Object.keys(env)) {
    if (name.startsWith(OWN_PREFIX) && !known.has(name) && !TOOLING_VARIABLES.has(name)) {
      problems.push(`${name} is not a known variable (known: ${[...known].sort().join(', ')})`);
    }
  }
  if (
    typeof values.requestTimeoutMs === 'number' &&
    typeof values.produceTimeoutMs === 'number' &&
    values.requestTimeoutMs <= values.produceTimeoutMs
  ) {
    problems.push(
      `KGW_REQUEST_TIMEOUT_MS (${values.requestTimeoutMs}) must exceed KGW_PRODUCE_TIMEOUT_MS (${values.produceTimeoutMs}) so a delivery report always arrives before the request's deadline`,
    );
  }
  if (problems.length > 0) {
    throw new GatewayError('KGW_CONFIG_INVALID', `invalid configuration: ${problems.join('; ')}`, {
      details: { problems },
    });
  }
  return Object.freeze(values) as Config;
}
