/**
 * Splits a byte stream into newline-terminated lines without ever holding more than `maxLineBytes`
 * of one line: a longer line is dropped (counted in `oversized`) and reading resumes after its
 * newline, so a runaway agent cannot exhaust the server's memory.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private discarding = false;

  constructor(private readonly maxLineBytes: number) {}

  push(chunk: Buffer): { lines: string[]; oversized: number } {
    const lines: string[] = [];
    let oversized = 0;
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl === -1 ? chunk.length : nl;
      if (!this.discarding) {
        const piece = chunk.subarray(start, end);
        if (this.size + piece.length > this.maxLineBytes) {
          this.discarding = true;
          this.parts = [];
          this.size = 0;
          oversized++;
        } else if (piece.length) {
          this.parts.push(piece);
          this.size += piece.length;
        }
      }
      if (nl === -1) break;
      if (!this.discarding) lines.push(this.take());
      this.discarding = false;
      start = nl + 1;
    }
    return { lines, oversized };
  }

  private take(): string {
    // A line that arrived in one chunk (most of them, a snapshot too) is decoded without a copy.
    const line = (this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size)).toString("utf8");
    this.parts = [];
    this.size = 0;
    return line.endsWith("\r") ? line.slice(0, -1) : line;
  }
}
