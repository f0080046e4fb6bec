/** The message of whatever was thrown, for logs and for the `error` fields of the API. */
export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : 'unknown error';
}
