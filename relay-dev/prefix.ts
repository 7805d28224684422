/** NIP-01 machine-readable prefixes on refusals. */
import { rejectionPrefix } from '../src/protocol/schema.js';

/** A hook's refusal with a known prefix; one without gets `blocked:` so clients can still read it. */
export function prefixed(message: string): string {
  return rejectionPrefix(message) ? message : `blocked: ${message}`;
}

/** The first problem zod found, as `path: message`. */
export function firstIssue(error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> }): string {
  const issue = error.issues[0];
  if (!issue) return 'malformed';
  const path = issue.path.map(String).join('.');
  return path ? `${path}: ${issue.message}` : issue.message;
}
