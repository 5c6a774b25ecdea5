/**
 * The SQLSTATE of a failed query, whichever driver raised it. drizzle wraps driver errors
 * (DrizzleQueryError) and keeps the original as `cause`.
 */
export function sqlState(e: unknown): string | undefined {
  for (let cur: unknown = e, depth = 0; cur && depth < 5; cur = (cur as { cause?: unknown }).cause, depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

export const UNIQUE_VIOLATION = "23505";
export const FOREIGN_KEY_VIOLATION = "23503";
export const INSUFFICIENT_PRIVILEGE = "42501";

/** Which constraint failed, when the driver says (both pg and PGlite do). */
export function constraintName(e: unknown): string | undefined {
  for (let cur: unknown = e, depth = 0; cur && depth < 5; cur = (cur as { cause?: unknown }).cause, depth++) {
    const c = (cur as { constraint?: unknown }).constraint;
    if (typeof c === "string") return c;
  }
  return undefined;
}
