/** A lab step failed; the message names the node and the command so the fix is obvious. */
export class LabError extends Error {
  constructor(
    message: string,
    readonly detail: { node?: string; command?: string[]; exitCode?: number | null; output?: string } = {},
  ) {
    super(message);
    this.name = "LabError";
  }
}

/** Last part of a tool's output: the error is usually at the end. */
export const excerpt = (text: string, max = 800) => (text.length > max ? `…${text.slice(-max)}` : text).trim();
