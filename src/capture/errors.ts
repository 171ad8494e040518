/**
 * A user-facing failure with a stable code and a one-line message (no stack trace is shown for
 * these). Thrown for unusable input or environment, never for malformed packets, which are
 * counted instead.
 */
export class SipscopeError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'SipscopeError';
    this.code = code;
  }
}
