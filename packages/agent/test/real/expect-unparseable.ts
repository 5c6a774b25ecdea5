import { expect } from "vitest";
import { AgentErrorCode } from "@nimbus/domain";
import { AgentError } from "../../src/errors.js";

/** Asserts that `fn` throws the typed unparseable error naming `tool` and carrying an excerpt. */
export function expectUnparseable(fn: () => unknown, tool: string, reason?: RegExp) {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(AgentError);
  const err = thrown as AgentError;
  expect(err.code).toBe(AgentErrorCode.unparseable);
  expect(err.data?.tool).toBe(tool);
  expect(typeof err.data?.excerpt).toBe("string");
  if (reason) expect(err.message).toMatch(reason);
}
