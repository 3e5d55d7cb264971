// The part of Node's built-in test runner and assert module the UI logic tests use (web/test).
// Debian ships no @types/node; these stand in, so `tsc --noEmit` checks the tests too.
declare module "node:test" {
  type TestFn = (context: unknown) => void | Promise<void>;
  export function test(name: string, fn: TestFn): Promise<void>;
  export function describe(name: string, fn: () => void): void;
  export function it(name: string, fn: TestFn): Promise<void>;
  export default test;
}

declare module "node:assert/strict" {
  interface Assert {
    (value: unknown, message?: string): asserts value;
    equal(actual: unknown, expected: unknown, message?: string): void;
    notEqual(actual: unknown, expected: unknown, message?: string): void;
    deepEqual(actual: unknown, expected: unknown, message?: string): void;
    ok(value: unknown, message?: string): asserts value;
    match(value: string, pattern: RegExp, message?: string): void;
    doesNotMatch(value: string, pattern: RegExp, message?: string): void;
    rejects(block: Promise<unknown> | (() => Promise<unknown>), expected?: unknown): Promise<void>;
    throws(block: () => unknown, expected?: unknown): void;
  }
  const assert: Assert;
  export default assert;
}
