/**
 * Deepest nesting of arrays and objects accepted in a JSON body or embedded
 * value. Far beyond what real payloads use, and far below where V8's
 * recursive JSON.stringify runs out of stack (a few thousand levels).
 */
export const MAX_JSON_DEPTH = 512;

/** Whether JSON text nests arrays/objects deeper than `max`; one pass, strings skipped. */
export function exceedsJsonDepth(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i += 1; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      depth += 1;
      if (depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth -= 1;
    }
  }
  return false;
}
