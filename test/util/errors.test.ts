import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliError, UsageError } from '../../src/cli/errors.js';
import { ConfigError, KeysError } from '../../src/config/errors.js';
import { ControlError } from '../../src/control/types.js';
import { AgentNotFoundError, RuntimeStoppingError, TickTimeoutError } from '../../src/runtime/errors.js';
import { BudgetExceededError as RuntimeBudgetExceededError } from '../../src/runtime/errors.js';
import { StorageBudgetExceededError, StorageConflictError, StorageInputError } from '../../src/storage/errors.js';
import { BudgetExceededError as ThinkBudgetExceededError, LlmError } from '../../src/think/errors.js';
import { AbortError } from '../../src/util/clock.js';
import { BudgetExceededError, CodedError, ERROR_CODES, InputError, errorCode, isInputFault, isPermanent } from '../../src/util/errors.js';

describe('the error taxonomy', () => {
  it('carries a stable code, the permanent and input flags and the cause', () => {
    const cause = new Error('inner');
    const e = new StorageConflictError('agent name taken', { cause });
    expect(e).toBeInstanceOf(CodedError);
    expect(e).toMatchObject({ name: 'StorageConflictError', code: 'STORAGE_CONFLICT', permanent: true, input: false, cause });
    expect([errorCode(e), isPermanent(e), isInputFault(e)]).toEqual(['STORAGE_CONFLICT', true, false]);
  });

  it('an input fault is always permanent', () => {
    const e = new InputError('INPUT_TOO_LARGE', 'reply too large');
    expect([errorCode(e), isPermanent(e), isInputFault(e)]).toEqual(['INPUT_TOO_LARGE', true, true]);
    expect(new CodedError('INTERNAL', 'x', { input: true, permanent: false }).permanent).toBe(true);
  });

  it('one BudgetExceededError for the runtime and the think layer', () => {
    expect(RuntimeBudgetExceededError).toBe(BudgetExceededError);
    expect(ThinkBudgetExceededError).toBe(BudgetExceededError);
    const e = new BudgetExceededError('sats', 'used 5 of 3', { used: 5, limit: 3 });
    expect(e).toMatchObject({ code: 'BUDGET_EXCEEDED', permanent: true, resource: 'sats', used: 5, limit: 3, message: 'budget exceeded: sats used 5 of 3' });
  });

  it('transient and permanent errors, by flag, never by class name', () => {
    expect(isPermanent(new RuntimeStoppingError())).toBe(false);
    expect(isPermanent(new LlmError('HTTP 503', 'http://x', 'http', 503))).toBe(false);
    expect(errorCode(new LlmError('timed out', 'http://x', 'timeout'))).toBe('LLM_TIMEOUT');
    expect(isPermanent(new TickTimeoutError(100))).toBe(true);
    expect(isPermanent(new StorageBudgetExceededError(1, 20, 10))).toBe(true);
    expect(isPermanent(new StorageInputError('bad key'))).toBe(true);
    // A renamed plain error is still transient: names decide nothing.
    const named = Object.assign(new Error('x'), { name: 'TickTimeoutError' });
    expect(isPermanent(named)).toBe(false);
    expect(isPermanent(new TypeError('bug'))).toBe(true);
    expect(isPermanent('a string')).toBe(false);
  });

  it('anything without a code is INTERNAL; platform aborts are ABORTED', () => {
    expect(errorCode(new Error('x'))).toBe('INTERNAL');
    expect(errorCode(undefined)).toBe('INTERNAL');
    expect(errorCode(new DOMException('gone', 'AbortError'))).toBe('ABORTED');
    expect(errorCode(new AbortError('aborted'))).toBe('ABORTED');
  });

  it('wrappers take the code of the CodedError they wrap, else their own', () => {
    const inner = new AgentNotFoundError('bob');
    expect(new ControlError(inner.message, 404, { cause: inner }).code).toBe('AGENT_NOT_FOUND');
    expect(new ControlError('no such endpoint', 404)).toMatchObject({ code: 'CONTROL_NOT_FOUND', permanent: true });
    expect(new ControlError('boom', 500)).toMatchObject({ code: 'CONTROL_FAILED', permanent: false });
    expect(new ControlError('too big', 413).code).toBe('INPUT_TOO_LARGE');
    expect(new CliError('x', 1, { cause: new KeysError('no mnemonic') }).code).toBe('KEYS_INVALID');
    expect(new CliError('x').code).toBe('CLI_FAILED');
    expect([new UsageError('x').code, new ConfigError('x').code]).toEqual(['USAGE', 'CONFIG_INVALID']);
  });

  it('every named error class in src/ is a CodedError (no bare `extends Error`)', () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (/\.tsx?$/.test(name) && name !== 'errors.ts' && /class \w+ extends Error\b/.test(readFileSync(path, 'utf8'))) offenders.push(path);
      }
    };
    walk(join(import.meta.dirname, '../../src'));
    // util/errors.ts holds the base itself; every other errors.ts must extend it too.
    expect(readFileSync(join(import.meta.dirname, '../../src/util/errors.ts'), 'utf8').match(/extends Error\b/g)).toHaveLength(1);
    for (const dir of ['runtime', 'storage', 'think', 'config', 'cli']) expect(readFileSync(join(import.meta.dirname, `../../src/${dir}/errors.ts`), 'utf8')).not.toMatch(/extends Error\b/);
    expect(offenders).toEqual([]);
    expect(Object.keys(ERROR_CODES).every((code) => /^[A-Z][A-Z_]+$/.test(code))).toBe(true);
  });
});
