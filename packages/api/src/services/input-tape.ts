import type { InputReader } from "@nimbus/domain";

/**
 * The values a health rule read at the previous sample, in reading order. Reading them again
 * compares as it goes and allocates nothing while they match, so an unchanged host costs a few
 * comparisons; a record edited in place is caught as well as one that was replaced.
 */
export class InputTape implements InputReader {
  private readonly values: unknown[] = [];
  private at = 0;
  private differs = false;
  private fresh = true;

  /** A method, not a closure per tape, so the rules' call sites stay monomorphic and get inlined. */
  see(value: string | number | boolean | null) {
    if (!this.differs && this.at < this.values.length && this.values[this.at] === value) {
      this.at++;
      return;
    }
    // From the first difference on, record instead of compare.
    this.differs = true;
    this.values[this.at++] = value;
  }

  /** Reads `subject` through `read`; true when a value differs from the last reading, and at the first. */
  changed<T>(read: (subject: T, input: InputReader) => void, subject: T): boolean {
    this.at = 0;
    this.differs = this.fresh;
    this.fresh = false;
    read(subject, this);
    if (this.at !== this.values.length) {
      this.differs = true;
      this.values.length = this.at;
    }
    return this.differs;
  }
}
