/** The home's config file (`<home>/config.json`): daemon-wide settings. Agents live in the database. */
import { z } from 'zod';

const relayUrl = z
  .string()
  .refine((v) => /^wss?:\/\/[^\s/]+/.test(v), { message: 'must be a ws:// or wss:// URL' });

/** Daemon-wide configuration; every field has a default so an empty file (or none) is valid. */
export const ConfigSchema = z
  .object({
    /** Relays new agents use when `agent create` gets no --relay. */
    relays: z.array(relayUrl).default([]),
    /** The embedded relay `agent up` starts. */
    relay: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(7777),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 7777 }),
    /** The local control API the CLI and TUI use. Port 0 picks a free port (written to control.json). */
    control: z
      .object({ port: z.number().int().min(0).max(65535).default(0) })
      .strict()
      .default({ port: 0 }),
    /** A listener of its own for /metrics, /healthz and /readyz without the control token (off unless a port is set). */
    metrics: z
      .object({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535) })
      .strict()
      .optional(),
    /** The webhook listener (off unless a port is set): body limit and deliveries per hook per minute. */
    hooks: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535),
        maxBodyBytes: z.number().int().positive().max(16 * 1024 * 1024).default(64 * 1024),
        perMinute: z.number().int().positive().default(60),
      })
      .strict()
      .optional(),
    runtime: z
      .object({
        concurrency: z.number().int().positive().optional(),
        idleMs: z.number().int().positive().default(60_000),
        maxConsecutiveFailures: z.number().int().positive().default(3),
      })
      .strict()
      .default({ idleMs: 60_000, maxConsecutiveFailures: 3 }),
    /** Encrypted snapshots of each agent on its relays (docs/recovery.md): a change is queued at most `intervalMs` after it happened, snapshots of one agent at least `intervalMs` apart. */
    recovery: z
      .object({
        intervalMs: z.number().int().min(100).default(10_000),
        /** Plaintext bytes per chunk event (NIP-44 allows 65,535; 32,000 keeps each event under 64 KiB). */
        chunkBytes: z.number().int().min(1024).max(40_000).default(32_000),
      })
      .strict()
      .default({ intervalMs: 10_000, chunkBytes: 32_000 }),
    /** An OpenAI-compatible endpoint; the API key is better given as AGENT_LLM_API_KEY. */
    llm: z
      .object({
        baseUrl: z.url({ message: 'must be an http(s) URL' }),
        model: z.string().min(1),
        apiKey: z.string().optional(),
      })
      .strict()
      .optional(),
    /**
     * Where the agents' state lives: `sqlite:PATH` (default `<home>/agents.db`; a relative PATH is
     * taken from the home) or `postgres://user:password@host:port/db`. `--database` and
     * AGENT_DATABASE_URL override it. Keys, this file and the control token stay in the home.
     */
    database: z
      .object({ url: z.string().min(1, { message: 'must be sqlite:PATH or postgres://…' }) })
      .strict()
      .optional(),
    log: z
      .object({
        level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
        json: z.boolean().default(false),
      })
      .strict()
      .default({ level: 'info', json: false }),
  })
  .strict();

/** The validated configuration with defaults applied. */
export type Config = z.infer<typeof ConfigSchema>;
