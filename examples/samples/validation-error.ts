import type { z } from 'zod';
import { ResponderError } from 'replygate/responder';

/** One invalid field of a request body, as sent in a 422 reply's `details.issues`. */
export interface FieldIssue {
  /** Dotted path of the field, e.g. `items.0.qty`; `(body)` for the body as a whole. */
  field: string;
  message: string;
}

/**
 * Turn a zod failure into a 422 `ResponderError` (code `VALIDATION_FAILED`) whose details name
 * every bad field.
 *
 * @example
 * const parsed = schema.safeParse(ctx.json());
 * if (!parsed.success) throw validationError(parsed.error);
 */
export function validationError(error: z.ZodError): ResponderError {
  const issues: FieldIssue[] = error.issues.map((i) => ({
    field: i.path.length === 0 ? '(body)' : i.path.map(String).join('.'),
    message: i.message,
  }));
  const fields = [...new Set(issues.map((i) => i.field))];
  return new ResponderError(
    422,
    `Invalid request body: ${fields.join(', ')}`,
    { issues },
    { code: 'VALIDATION_FAILED' },
  );
}
