/**
 * Canonical JSON for trajectory content: object keys sorted by UTF-16 code unit, no whitespace,
 * `undefined` members dropped. The same record always yields the same bytes, so two machines that
 * format one tick get the same event id, and a verifier can re-serialize what it decrypted.
 */

/** A JSON value as it appears in trajectory content. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const MAX_DEPTH = 12;

/**
 * Turns anything a behavior put into a step's `detail` into plain JSON: non-finite numbers become
 * null, bigints and dates strings, functions and symbols vanish, cycles and very deep nesting are cut.
 * Records come from agent code, so this never throws.
 */
export function toJsonValue(value: unknown, depth = 0, seen: Set<object> = new Set()): JsonValue | undefined {
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'bigint':
      return value.toString();
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  const obj = value as object;
  if (seen.has(obj)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[too deep]';
  seen.add(obj);
  try {
    if (Array.isArray(obj)) return obj.map((item) => toJsonValue(item, depth + 1, seen) ?? null);
    const out: { [key: string]: JsonValue } = {};
    for (const [key, member] of Object.entries(obj)) {
      const json = toJsonValue(member, depth + 1, seen);
      if (json !== undefined) out[key] = json;
    }
    return out;
  } finally {
    seen.delete(obj);
  }
}

/** Serializes a JSON value canonically (sorted keys, no whitespace). */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  const members: string[] = [];
  for (const key of keys) {
    const member = value[key];
    if (member !== undefined) members.push(`${JSON.stringify(key)}:${canonicalJson(member)}`);
  }
  return `{${members.join(',')}}`;
}
