/** README.md "REST API": session ids are 1-64 characters of `[A-Za-z0-9_-]`. */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const SESSION_ID_RULE = 'id must be 1-64 characters of A-Z, a-z, 0-9, _ or -';

export function isValidSessionId(value: unknown): value is string {
  return typeof value === 'string' && SESSION_ID_PATTERN.test(value);
}
