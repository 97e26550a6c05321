/**
 * JSON-schema validation (ajv) with error messages that name the offending field, what is
 * wrong and the fix, with a did-you-mean (the same messages as the daemon's config:
 * src/validation/messages.ts).
 */
import { Ajv } from 'ajv';
import type { Schema, ValidateFunction } from 'ajv';
import { formatSchemaErrors } from '../src/validation/messages.js';

const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictRequired: false });
const compiled = new WeakMap<object, ValidateFunction>();

export class SpecError extends Error {
  override name = 'SpecError';
}

/** Names a field of a spec from an ajv instancePath: environments/0/params/k. */
function fieldNamer(root: string): (instancePath: string) => string {
  return (instancePath) =>
    `${root}${instancePath}`.replace(/^\//, '').replace(/~1/g, '/').replace(/~0/g, '~') ||
    '(top level)';
}

/** Validates `value` against `schema`; throws a SpecError listing every bad field. */
export function validateOrThrow(schema: Schema, value: unknown, root: string, what: string): void {
  let validate = compiled.get(schema as object);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema as object, validate);
  }
  if (!validate(value)) {
    const lines = formatSchemaErrors(validate.errors ?? [], fieldNamer(root)).map(
      (l) => `  - ${l}`,
    );
    throw new SpecError(`${what} is invalid:\n${lines.join('\n')}`);
  }
}
