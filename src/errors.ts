/**
 * The one catalogue of pullguard's errors: a stable code an operator can grep
 * for, an HTTP status, and a message. Messages never carry request bodies,
 * image strings that failed to parse, or anything read from a Secret: the
 * caller passes only field paths and short, operator-authored values.
 * (Shape borrowed from fastify's lib/errors.js.)
 *
 * Every error class pullguard raises extends PullguardError with its own
 * code (test/errors.test.ts checks src/ for any other). A plain Error,
 * TypeError or RangeError still thrown in src/ marks a broken invariant or a
 * caller's mistake in code, never a condition an operator can fix.
 */
export type ErrorCode =
  | 'PG_CONFIG_INVALID'
  | 'PG_CONFIG_UNREADABLE'
  | 'PG_BODY_INVALID_JSON'
  | 'PG_BODY_INVALID_YAML'
  | 'PG_BODY_EMPTY'
  | 'PG_BODY_TOO_LARGE'
  | 'PG_BODY_TOO_DEEP'
  | 'PG_BODY_FORBIDDEN_KEY'
  | 'PG_UNSUPPORTED_MEDIA_TYPE'
  | 'PG_REVIEW_INVALID'
  | 'PG_NOT_A_REVIEW'
  | 'PG_REVIEW_UNKNOWN_VERSION'
  | 'PG_NOT_A_POD'
  | 'PG_BAD_QUERY'
  | 'PG_BAD_REQUEST'
  | 'PG_REQUEST_TIMEOUT'
  | 'PG_HEADERS_TOO_LARGE'
  | 'PG_NOT_FOUND'
  | 'PG_LISTEN_FAILED'
  | 'PG_INTERNAL'
  | 'PG_CLI_USAGE'
  | 'PG_GLOB_SYNTAX'
  | 'PG_KUBE_READ_FAILED'
  | 'PG_SECRET_COPY_FAILED'
  | 'PG_DISTRIBUTION_ROUND_FAILED'
  | 'PG_PRIVATE_IMAGES_WRITE_FAILED'
  | 'PG_BOOTSTRAP_FAILED'
  | 'PG_CERTIFICATE_OPTIONS'

const STATUS: Readonly<Record<ErrorCode, number>> = {
  PG_CONFIG_INVALID: 500,
  PG_CONFIG_UNREADABLE: 500,
  PG_BODY_INVALID_JSON: 400,
  PG_BODY_INVALID_YAML: 400,
  PG_BODY_EMPTY: 400,
  PG_BODY_TOO_LARGE: 413,
  PG_BODY_TOO_DEEP: 400,
  PG_BODY_FORBIDDEN_KEY: 400,
  PG_UNSUPPORTED_MEDIA_TYPE: 415,
  PG_REVIEW_INVALID: 400,
  PG_NOT_A_REVIEW: 400,
  PG_REVIEW_UNKNOWN_VERSION: 400,
  PG_NOT_A_POD: 400,
  PG_BAD_QUERY: 400,
  PG_BAD_REQUEST: 400,
  PG_REQUEST_TIMEOUT: 408,
  PG_HEADERS_TOO_LARGE: 431,
  PG_NOT_FOUND: 404,
  PG_LISTEN_FAILED: 500,
  PG_INTERNAL: 500,
  // Bad flags of a CLI command: printed with its usage hint, exit 2.
  PG_CLI_USAGE: 400,
  // The codes below are raised and handled inside pullguard (the glob
  // compiler, the cluster side): logged or kept in a status(), never the
  // answer to an HTTP request; 500 should one ever escape to a handler.
  PG_GLOB_SYNTAX: 500, // registry/go-glob.ts GlobSyntaxError
  PG_KUBE_READ_FAILED: 500, // kube/api-get.ts ApiGetError: a list or watch failed
  PG_SECRET_COPY_FAILED: 500, // kube/secret-copies.ts CopyApiError
  PG_DISTRIBUTION_ROUND_FAILED: 500, // kube/secret-distributor.ts RoundError
  PG_PRIVATE_IMAGES_WRITE_FAILED: 500, // kube/private-images-writer.ts WriterError
  // Never an HTTP answer: start-up and the certificate bootstrap (bootstrap/bootstrap-error.ts).
  PG_BOOTSTRAP_FAILED: 500,
  // Never an HTTP answer: a bad certificate option (tls/certs.ts), exit code 2 in the certs CLI.
  PG_CERTIFICATE_OPTIONS: 500,
}

export class PullguardError extends Error {
  readonly code: ErrorCode
  readonly statusCode: number

  constructor (code: ErrorCode, message: string) {
    super(message)
    this.name = 'PullguardError'
    this.code = code
    this.statusCode = STATUS[code]
  }
}

export function isPullguardError (err: unknown): err is PullguardError {
  return err instanceof PullguardError
}

/** The JSON body every error response has: `{ "error": { code, message, statusCode } }`. */
export interface ErrorBody {
  error: { code: ErrorCode, message: string, statusCode: number }
}

export function errorBody (err: PullguardError): ErrorBody {
  return { error: { code: err.code, message: err.message, statusCode: err.statusCode } }
}
