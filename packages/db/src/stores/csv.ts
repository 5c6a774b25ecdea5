/**
 * RFC 4180 CSV: fields with a comma, quote or line break are quoted and quotes doubled. Cells
 * that a spreadsheet would run as a formula (=, +, -, @, tab, CR first) get a leading apostrophe,
 * because audit fields carry text users typed (OWASP "CSV injection").
 */
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: unknown): string {
  let text = value === null || value === undefined ? "" : typeof value === "string" ? value : String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Rows as CSV lines, each ended by CRLF (so chunks of lines concatenate into one table). */
export function csvLines(rows: readonly (readonly unknown[])[]): string {
  return rows.map((r) => r.map(csvCell).join(",") + "\r\n").join("");
}

export function toCsvTable(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return csvLines([header, ...rows]);
}
