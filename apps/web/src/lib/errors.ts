import { TRPCClientError } from "@trpc/client";
import type { PreflightCheck } from "@nimbus/domain";

/**
 * What the UI needs from any failed call: a message a person can act on (the server's words, or
 * ours for input it refused), the tRPC code and Nimbus's own code to branch on, and preflight
 * checks when a migration was refused.
 */
export interface ErrorInfo {
  message: string;
  code: string | null;
  nimbusCode: string | null;
  checks: PreflightCheck[] | null;
}

interface ErrorData {
  code?: string;
  nimbusCode?: string | null;
  details?: { checks?: PreflightCheck[] } | null;
}

export function errorInfo(error: unknown): ErrorInfo {
  if (error instanceof TRPCClientError) {
    const data = (error.data ?? {}) as ErrorData;
    const code = data.code ?? null;
    return {
      message: (code === "BAD_REQUEST" && inputErrorText(error.message)) || error.message || "the request failed",
      code,
      nimbusCode: data.nimbusCode ?? null,
      checks: Array.isArray(data.details?.checks) ? data.details.checks : null,
    };
  }
  if (error instanceof Error) return { message: error.message, code: null, nimbusCode: null, checks: null };
  return { message: "the request failed", code: null, nimbusCode: null, checks: null };
}

export const isUnauthorized = (error: unknown) => errorInfo(error).code === "UNAUTHORIZED";
export const isForbidden = (error: unknown) => errorInfo(error).code === "FORBIDDEN";

/** The fields of a zod issue the words below need (zod 4's shapes; anything else reads "not valid"). */
export interface InputIssue {
  code: string;
  message: string;
  path?: readonly PropertyKey[];
  expected?: string;
  received?: string;
  origin?: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
  inclusive?: boolean;
  format?: string;
  values?: readonly unknown[];
  keys?: readonly string[];
  divisor?: number;
}

// zod's own messages start so ("Too big: expected string to have <=80 characters"); ours are
// written for people already ("at least 12 characters") and are kept as they are.
const ZOD_DEFAULT = /^(Invalid|Too (big|small)|Unrecognized key|Expected )/;
const ofUnit = (origin: string | undefined, n: number | bigint) =>
  origin === "string" ? ` character${n === 1 ? "" : "s"}` : origin === "array" || origin === "set" ? ` item${n === 1 ? "" : "s"}` : "";
const formats: Record<string, string> = {
  email: "an email address, like name@example.com",
  datetime: "a date and time",
  date: "a date",
  url: "a web address",
  uuid: "an identifier",
  regex: "contains characters that are not allowed here",
};

/** One refused value in words, without its field's name: "at most 80 characters", "a whole number". */
export function issueText(issue: InputIssue): string {
  if (!ZOD_DEFAULT.test(issue.message)) return issue.message;
  switch (issue.code) {
    case "invalid_type":
      if (issue.received === "undefined") return "required";
      if (issue.expected === "int") return "a whole number";
      if (issue.expected === "number") return issue.received === "Infinity" || issue.received === "-Infinity" ? "a number that large is not accepted" : "a number";
      if (issue.expected === "string") return "text";
      if (issue.expected === "boolean") return "yes or no";
      return "not valid here";
    case "too_big": {
      const max = issue.maximum ?? 0;
      if (issue.origin === "number" || issue.origin === "int" || issue.origin === "bigint") return issue.inclusive === false ? `less than ${max}` : `at most ${max}`;
      return `at most ${max}${ofUnit(issue.origin, max)}`;
    }
    case "too_small": {
      const min = issue.minimum ?? 0;
      if (issue.origin === "number" || issue.origin === "int" || issue.origin === "bigint") return issue.inclusive === false ? `more than ${min}` : `at least ${min}`;
      if (Number(min) === 1 && issue.origin === "string") return "required";
      return `at least ${min}${ofUnit(issue.origin, min)}`;
    }
    case "invalid_format":
      return formats[issue.format ?? ""] ?? "not in the expected format";
    case "invalid_value":
      return issue.values?.length ? `one of ${issue.values.map(String).join(", ")}` : "not one of the allowed values";
    case "not_multiple_of":
      return `a multiple of ${issue.divisor}`;
    case "unrecognized_keys":
      return `unexpected field${issue.keys && issue.keys.length > 1 ? "s" : ""} ${issue.keys?.join(", ") ?? ""}`.trim();
    default:
      return "not valid";
  }
}

const units: [RegExp, string][] = [
  [/MiBps$/, " (MiB/s)"],
  [/Ms$/, " (ms)"],
  [/MiB$/, " (MiB)"],
];

/** "maxDowntimeMs" → "Max downtime (ms)": a field name as a label. */
export function fieldLabel(path: readonly PropertyKey[] | undefined): string | null {
  const name = [...(path ?? [])].reverse().find((p): p is string => typeof p === "string");
  if (!name) return null;
  let unit = "";
  let base = name;
  for (const [re, words] of units)
    if (re.test(base)) {
      base = base.replace(re, "");
      unit = words;
      break;
    }
  const words = base.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1) + unit;
}

/**
 * The server's refusal of a request's input (tRPC BAD_REQUEST carries zod's issues as JSON) in
 * words: "Name: at most 80 characters". Null when the message is not a list of issues.
 */
export function inputErrorText(message: string): string | null {
  let issues: unknown;
  try {
    issues = JSON.parse(message);
  } catch {
    return null;
  }
  if (!Array.isArray(issues) || !issues.length || !issues.every((i) => i && typeof i === "object" && typeof i.code === "string" && typeof i.message === "string")) return null;
  return (issues as InputIssue[])
    .map((i) => {
      const label = fieldLabel(i.path);
      return label ? `${label}: ${issueText(i)}` : capitalize(issueText(i));
    })
    .join("; ");
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
