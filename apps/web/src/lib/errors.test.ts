import { describe, expect, it } from "vitest";
import { TRPCClientError } from "@trpc/client";
import { z } from "zod";
import { MigrateOptions } from "@nimbus/domain";
import { errorInfo, fieldLabel, inputErrorText, issueText } from "./errors";

const issuesOf = (schema: z.ZodType, value: unknown) => schema.safeParse(value).error!.issues;
const firstIssue = (schema: z.ZodType, value: unknown) => issuesOf(schema, value)[0]!;

describe("refused input in words", () => {
  it("say a number too large to be one instead of 'expected number, received Infinity'", () => {
    const issue = firstIssue(MigrateOptions, { maxDowntimeMs: Number("9".repeat(400)) });
    expect(issue.message).toContain("received Infinity");
    expect(issueText(issue)).toBe("a number that large is not accepted");
  });

  it("say how long a text may be instead of 'Too big: expected string to have <=80 characters'", () => {
    expect(issueText(firstIssue(z.string().max(80), "x".repeat(81)))).toBe("at most 80 characters");
    expect(issueText(firstIssue(z.string().min(1), ""))).toBe("required");
    expect(issueText(firstIssue(z.string().min(3), "a"))).toBe("at least 3 characters");
  });

  it("say numbers' limits, whole numbers, formats and choices plainly", () => {
    expect(issueText(firstIssue(z.number().max(100), 101))).toBe("at most 100");
    expect(issueText(firstIssue(z.number().int(), 1.5))).toBe("a whole number");
    expect(issueText(firstIssue(z.number().positive(), 0))).toBe("more than 0");
    expect(issueText(firstIssue(z.email(), "nope"))).toBe("an email address, like name@example.com");
    expect(issueText(firstIssue(z.enum(["operator", "oncall"]), "root"))).toBe("one of operator, oncall");
    expect(issueText(firstIssue(z.string().regex(/^[a-z]+$/), "A!"))).toBe("contains characters that are not allowed here");
  });

  it("keep messages already written for people", () => {
    expect(issueText(firstIssue(z.string().min(12, "at least 12 characters"), "short"))).toBe("at least 12 characters");
  });

  it("name the field the way a form labels it", () => {
    expect(fieldLabel(["options", "maxDowntimeMs"])).toBe("Max downtime (ms)");
    expect(fieldLabel(["bandwidthMiBps"])).toBe("Bandwidth (MiB/s)");
    expect(fieldLabel(["name"])).toBe("Name");
    expect(fieldLabel([])).toBeNull();
  });

  it("turn the server's BAD_REQUEST (zod's issues as JSON) into one sentence", () => {
    const message = JSON.stringify(issuesOf(z.object({ name: z.string().max(80), replicas: z.number() }), { name: "x".repeat(81), replicas: "7" }), null, 2);
    expect(inputErrorText(message)).toBe("Name: at most 80 characters; Replicas: a number");
    const error = new TRPCClientError(message, { result: { error: { message, code: -32600, data: { code: "BAD_REQUEST", httpStatus: 400 } } } });
    expect(errorInfo(error).message).toBe("Name: at most 80 characters; Replicas: a number");
    expect(errorInfo(error).message).not.toMatch(/Too big|expected|\[/);
  });

  it("leave other messages alone", () => {
    expect(inputErrorText("kvm2 lacks VLAN 20")).toBeNull();
    expect(inputErrorText("[1, 2]")).toBeNull();
  });
});
