/**
 * JSON-schema validation (ajv) with error messages that name the offending field.
 */
import { Ajv } from 'ajv';
import type { ErrorObject, Schema, ValidateFunction } from 'ajv';

const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
const compiled = new WeakMap<object, ValidateFunction>();

export class SpecError extends Error {
  override name = 'SpecError';
}

function describe(e: ErrorObject, root: string): string {
  const path = `${root}${e.instancePath}`.replace(/^\//, '') || root || '(top level)';
  const p = e.params as Record<string, unknown>;
  if (e.keyword === 'additionalProperties') {
    return `${path}: unknown field "${String(p.additionalProperty)}"`;
  }
  if (e.keyword === 'required')
    return `${path}: missing required field "${String(p.missingProperty)}"`;
  if (e.keyword === 'enum') {
    return `${path}: must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return `${path}: ${e.message ?? e.keyword}`;
}

/** Validates `value` against `schema`; throws a SpecError listing every bad field. */
export function validateOrThrow(schema: Schema, value: unknown, root: string, what: string): void {
  let validate = compiled.get(schema as object);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema as object, validate);
  }
  if (!validate(value)) {
    const lines = (validate.errors ?? []).map((e) => `  - ${describe(e, root)}`);
    throw new SpecError(`${what} is invalid:\n${[...new Set(lines)].join('\n')}`);
  }
}
