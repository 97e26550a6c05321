/**
 * Error messages of JSON-schema validation (ajv) that name the field, say what is wrong
 * and how to fix it, with a did-you-mean for misspelt names. One implementation for the
 * daemon's config (src/config/) and the experiment specs (experiments/).
 */
import type { ErrorObject } from 'ajv';

/** The candidate closest to `word` by edit distance, when it is close enough to be a typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/** `did you mean "x"? ` or '' (for the middle of a message). */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const guess = closest(word, candidates);
  return guess ? `did you mean "${guess}"? ` : '';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}

const TYPE_FIX: Record<string, string> = {
  integer: 'write a whole number',
  number: 'write a number',
  string: 'write a string',
  boolean: 'write true or false',
  object: 'write a mapping of fields',
  array: 'write a list',
};

function show(v: unknown): string {
  return v === undefined ? 'nothing' : JSON.stringify(v);
}

/** Names a field for the user from an ajv instancePath ("config.metrics.port", "environments/0"). */
export type FieldNamer = (instancePath: string) => string;

/** One ajv error as `<field>: <what is wrong>; <the fix>`. */
export function describeSchemaError(e: ErrorObject, fieldOf: FieldNamer): string {
  const at = fieldOf(e.instancePath);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const field = String(p.additionalProperty);
      const known = Object.keys(
        ((e.parentSchema as { properties?: object }) ?? {}).properties ?? {},
      );
      const escaped = field.replace(/~/g, '~0').replace(/\//g, '~1');
      return `${fieldOf(`${e.instancePath}/${escaped}`)}: unknown field "${field}"; ${didYouMean(field, known)}remove it or use one of: ${known.join(', ')}`;
    }
    case 'required':
      return `${at}: missing required field "${String(p.missingProperty)}"; add it`;
    case 'type': {
      const type = String(p.type).split(',')[0];
      return `${at}: must be ${String(p.type).replace(',', ' or ')}, got ${show(e.data)}; ${TYPE_FIX[type] ?? `write a ${type}`}`;
    }
    case 'enum': {
      const allowed = (p.allowedValues as unknown[]).map(show);
      const guess =
        typeof e.data === 'string'
          ? didYouMean(
              e.data,
              (p.allowedValues as unknown[]).filter((v): v is string => typeof v === 'string'),
            )
          : '';
      return `${at}: must be one of ${allowed.join(', ')}; got ${show(e.data)}${guess ? `; ${guess.trim()}` : ''}`;
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `${at}: must be ${String(p.comparison)} ${String(p.limit)}, got ${show(e.data)}`;
    case 'minLength':
      return `${at}: must not be empty`;
    case 'minItems':
      return `${at}: must list at least ${String(p.limit)} item(s), got ${Array.isArray(e.data) ? e.data.length : show(e.data)}`;
    case 'uniqueItems':
      return `${at}: items ${String(p.j)} and ${String(p.i)} are the same; list each once`;
    default:
      return `${at}: ${e.message ?? 'is invalid'}, got ${show(e.data)}`;
  }
}

/**
 * Formats ajv errors (compiled with allErrors and verbose), one line per problem, each
 * once. A failed oneOf/anyOf reports itself (through `describeUnion` when it returns a
 * message), not the noise of its branches.
 */
export function formatSchemaErrors(
  errors: ErrorObject[],
  fieldOf: FieldNamer,
  describeUnion?: (e: ErrorObject, at: string) => string | undefined,
): string[] {
  const isUnion = (e: ErrorObject) => e.keyword === 'oneOf' || e.keyword === 'anyOf';
  const unions = errors.filter(isUnion).map((e) => e.schemaPath + '/');
  const out: string[] = [];
  for (const e of errors) {
    if (unions.some((u) => e.schemaPath.startsWith(u))) continue;
    const msg =
      (isUnion(e) && describeUnion?.(e, fieldOf(e.instancePath))) ||
      describeSchemaError(e, fieldOf);
    if (!out.includes(msg)) out.push(msg);
  }
  return out;
}
