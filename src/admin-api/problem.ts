import type { ZodError } from 'zod';
import { z } from './zod.ts';

/**
 * Admin API errors as RFC 9457 problem details (`application/problem+json`). Each kind has a
 * stable `type` URI that clients can switch on; `title` is its fixed summary, `detail` says what
 * happened this time. Never a stack trace or an internal message.
 */
export const PROBLEMS = {
  validation: { status: 400, title: 'The request is not valid' },
  malformed_json: { status: 400, title: 'The body is not JSON' },
  unauthorized: { status: 401, title: 'A valid Admin API access token is required' },
  forbidden: { status: 403, title: 'The token does not allow this' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  not_acceptable: { status: 406, title: 'None of the accepted media types can be produced' },
  conflict: { status: 409, title: 'The request conflicts with the current state' },
  idempotency_in_progress: { status: 409, title: 'A request with this Idempotency-Key is still being answered' },
  precondition_failed: { status: 412, title: 'The object changed since it was read (If-Match)' },
  payload_too_large: { status: 413, title: 'The body is too large' },
  unsupported_media_type: { status: 415, title: 'The body must be application/json' },
  idempotency_key_reused: { status: 422, title: 'This Idempotency-Key was used with another request' },
  internal: { status: 500, title: 'Internal error' },
} as const;

export type ProblemKind = keyof typeof PROBLEMS;

export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

export function problemType(kind: ProblemKind): string {
  return `urn:umbral:problem:${kind.replaceAll('_', '-')}`;
}

/** One invalid field: where (`body`, `query`, `path`, `header`), its JSON pointer, and why. */
export interface FieldProblem {
  in: 'body' | 'query' | 'path' | 'header';
  pointer: string;
  detail: string;
}

export class Problem extends Error {
  readonly status: number;
  constructor(
    readonly kind: ProblemKind,
    readonly detail: string,
    readonly extras: { errors?: FieldProblem[]; headers?: Record<string, string> } = {},
  ) {
    super(detail);
    this.name = 'Problem';
    this.status = PROBLEMS[kind].status;
  }

  /** A validation problem about one field. */
  static field(where: FieldProblem['in'], pointer: string, detail: string): Problem {
    return new Problem('validation', detail, { errors: [{ in: where, pointer, detail }] });
  }

  body(instance: string): ProblemBody {
    return {
      type: problemType(this.kind),
      title: PROBLEMS[this.kind].title,
      status: this.status,
      detail: this.detail,
      instance,
      ...(this.extras.errors ? { errors: this.extras.errors } : {}),
    };
  }
}

export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: 'urn:umbral:problem:validation' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    errors: z
      .array(
        z.object({
          in: z.enum(['body', 'query', 'path', 'header']),
          pointer: z.string().openapi({ example: '/redirect_uris/0' }),
          detail: z.string(),
        }),
      )
      .optional()
      .openapi({ description: 'For validation problems: each invalid field.' }),
  })
  .openapi('Problem');

export type ProblemBody = z.infer<typeof ProblemSchema>;

/** A zod failure as a validation problem, one entry per issue. */
export function validationProblem(where: FieldProblem['in'], error: ZodError): Problem {
  const errors = error.issues.map((issue) => ({
    in: where,
    pointer: `/${issue.path.map((part) => String(part).replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`,
    detail: issue.message,
  }));
  const first = errors[0];
  const detail = first ? `${where} ${first.pointer}: ${first.detail}` : `the ${where} is not valid`;
  return new Problem('validation', errors.length > 1 ? `${detail} (and ${errors.length - 1} more)` : detail, {
    errors,
  });
}
