/**
 * The control API's routes, matched exactly: every segment of the path, no more and no fewer (an
 * extra segment, a doubled or trailing slash is a 404), so what a request reaches is what it names.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ControlError, type AgentAction, type ControlHandler } from './types.js';

/** What a route's handler gets: the request, its parsed URL, the `:ref` segment (decoded) and the daemon's handler. */
export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  ref: string;
  handler: ControlHandler;
}

/** One route: a method, a path pattern (`:ref` matches one non-empty segment) and what to do. */
export interface Route {
  method: 'GET' | 'POST';
  path: string;
  run(ctx: RouteContext): Promise<void> | void;
}

/** The agent actions, one route each (`POST /v1/agents/:ref/<action>`). */
export const ACTIONS: readonly AgentAction[] = ['pause', 'resume', 'terminate', 'recover'];

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch (cause) {
    throw new ControlError(`malformed path segment "${segment.slice(0, 80)}"`, 400, { cause });
  }
}

/** The route `method path` names exactly and its `:ref`, or undefined (a 404). */
export function matchRoute(routes: readonly Route[], method: string | undefined, pathname: string): { route: Route; ref: string } | undefined {
  const segments = pathname.split('/').slice(1);
  for (const route of routes) {
    if (route.method !== method) continue;
    const pattern = route.path.split('/').slice(1);
    if (pattern.length !== segments.length) continue;
    let ref = '';
    const same = pattern.every((part, i) => {
      const segment = segments[i] as string;
      if (part !== ':ref') return part === segment;
      ref = segment;
      return segment !== '';
    });
    if (same) return { route, ref: decode(ref) };
  }
  return undefined;
}
