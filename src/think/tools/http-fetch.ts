/**
 * The http_fetch tool: GET or POST to hosts on the agent's allowlist only. Redirects are followed
 * by hand so each hop is checked against the allowlist again; the body is cut at a size limit and
 * the whole fetch at a time limit.
 */
import { z } from 'zod';
import { AbortError } from '../../util/clock.js';
import { isHostAllowed } from './allow.js';
import { defineTool } from './define.js';
import { ToolInputError, ToolRefusedError, type Tool } from './types.js';

/** Limits; defaults: 256 KiB body, 15 s, 5 redirects. */
export interface HttpFetchOptions {
  maxBytes?: number;
  timeoutMs?: number;
  maxRedirects?: number;
  fetch?: typeof fetch;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Builds the http_fetch tool with the given limits. */
export function createHttpFetchTool(options: HttpFetchOptions = {}): Tool<HttpFetchArgs> {
  const maxBytes = options.maxBytes ?? 256 * 1024;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const maxRedirects = options.maxRedirects ?? 5;
  return defineTool({
    name: 'http_fetch',
    description: `Fetch a web page or API over HTTP(S) (GET or POST). Only hosts on your allowlist can be reached; bodies over ${Math.round(maxBytes / 1024)} KiB are truncated.`,
    schema: HttpFetchArgsSchema,
    async run(args, ctx, { signal }) {
      let url = checkedUrl(args.url, ctx.capabilities.httpAllow, 'fetching');
      let method: string = args.method;
      let body = args.method === 'POST' ? args.body : undefined;
      const timeout = AbortSignal.timeout(timeoutMs);
      const joined = signal ? AbortSignal.any([signal, timeout]) : timeout;
      try {
        for (let hops = 0; ; hops++) {
          const headers: Record<string, string> = { accept: '*/*' };
          if (body !== undefined) headers['content-type'] = args.content_type ?? 'text/plain; charset=utf-8';
          const res = await (options.fetch ?? fetch)(url, { method, headers, body, redirect: 'manual', signal: joined });
          const location = res.headers.get('location');
          if (REDIRECTS.has(res.status) && location) {
            await res.body?.cancel();
            if (hops >= maxRedirects) throw new ToolInputError(`too many redirects (more than ${maxRedirects})`);
            url = checkedUrl(new URL(location, url).href, ctx.capabilities.httpAllow, 'redirect to');
            if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
              method = 'GET';
              body = undefined;
            }
            continue;
          }
          const { text, truncated } = await readLimited(res, maxBytes);
          return {
            status: res.status,
            url: url.href,
            content_type: res.headers.get('content-type') ?? '',
            body: truncated ? `${text}\n[truncated: the body was larger than ${maxBytes} bytes]` : text,
            ...(truncated ? { truncated: true } : {}),
          };
        }
      } catch (error) {
        if (signal?.aborted) throw new AbortError('http_fetch aborted', { cause: signal.reason });
        if (timeout.aborted) throw new ToolInputError(`http_fetch of ${url.href} timed out after ${timeoutMs} ms`);
        if (error instanceof ToolInputError || error instanceof ToolRefusedError) throw error;
        const reason = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
        throw new ToolInputError(`http_fetch of ${url.href} failed: ${reason}`, { cause: error });
      }
    },
  });
}

const HttpFetchArgsSchema = z.object({
  url: z.string().trim().min(1).max(4000).describe('The http:// or https:// URL.'),
  method: z.enum(['GET', 'POST']).default('GET'),
  body: z.string().max(64 * 1024).optional().describe('Request body (POST only).'),
  content_type: z.string().max(200).optional().describe('Content-Type of the body, e.g. application/json.'),
});
type HttpFetchArgs = z.infer<typeof HttpFetchArgsSchema>;

/** The http_fetch tool with default limits. */
export const httpFetchTool = createHttpFetchTool();

function checkedUrl(raw: string, allow: string[], what: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ToolInputError(`not a valid URL: ${JSON.stringify(raw.slice(0, 200))}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ToolInputError(`only http and https URLs can be fetched, not ${url.protocol}`);
  if (url.username || url.password) throw new ToolInputError('URLs with credentials are not allowed');
  if (!isHostAllowed(url, allow)) {
    throw new ToolRefusedError(`${what} ${url.host} is not allowed: the host is not on the agent's http allowlist`);
  }
  return url;
}

async function readLimited(res: Response, maxBytes: number): Promise<{ text: string; truncated: boolean }> {
  if (!res.body) return { text: '', truncated: false };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.byteLength > maxBytes) {
      chunks.push(value.subarray(0, maxBytes - size));
      truncated = true;
      await reader.cancel();
      break;
    }
    chunks.push(value);
    size += value.byteLength;
  }
  return { text: new TextDecoder('utf-8').decode(Buffer.concat(chunks)), truncated };
}
