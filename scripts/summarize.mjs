// Sums the JSON reports of every runner into the last line CI reads: "N passed, N failed".
// Above it, each failed (or flaky) test is named with the first lines of its error: CI keeps only
// the tail of the log, and a bare count does not say what to fix.
import { existsSync, readFileSync } from "node:fs";

const firstLines = (text, n = 3) =>
  String(text ?? "")
    // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes from the reporters
    .replace(/\u001b\[[0-9;]*m/g, "")
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(0, n)
    .join(" | ")
    .slice(0, 400);

/** Playwright: every test of every (nested) suite, with its file. */
function* playwrightTests(suite) {
  for (const spec of suite.specs ?? []) for (const test of spec.tests) yield { file: spec.file ?? suite.file, title: spec.title, test };
  for (const child of suite.suites ?? []) yield* playwrightTests(child);
}

let passed = 0;
let failed = 0;
const notes = [];
for (const [runner, file] of process.argv.slice(2).map((a) => a.split("="))) {
  if (!existsSync(file)) {
    console.log(`${runner}: no report (the runner did not finish) — counted as 1 failure`);
    failed += 1;
    continue;
  }
  const r = JSON.parse(readFileSync(file, "utf8"));
  let p = 0;
  let f = 0;
  if (r.stats && "expected" in r.stats) {
    // Playwright: flaky tests passed on retry but are reported; unexpected are failures.
    p = r.stats.expected + r.stats.flaky;
    f = r.stats.unexpected;
    for (const suite of r.suites ?? [])
      for (const { file: specFile, title, test } of playwrightTests(suite)) {
        if (test.status !== "unexpected" && test.status !== "flaky") continue;
        const error = test.results.find((x) => x.error)?.error?.message;
        notes.push(`${runner} ${test.status === "flaky" ? "FLAKY (passed on retry)" : "FAILED"}: ${specFile} › ${title} [${test.projectName}] — ${firstLines(error)}`);
      }
    for (const e of r.errors ?? []) notes.push(`${runner} ERROR: ${firstLines(e.message)}`);
  } else {
    // Vitest (jest-compatible JSON); a file that failed to load has failed suites but no tests.
    p = r.numPassedTests;
    f = r.numFailedTests + (r.numFailedTestSuites && !r.numFailedTests ? r.numFailedTestSuites : 0);
    for (const t of r.testResults ?? []) {
      const where = t.name.replace(`${process.cwd()}/`, "");
      for (const a of t.assertionResults ?? [])
        if (a.status === "failed") notes.push(`${runner} FAILED: ${where} › ${a.fullName} — ${firstLines(a.failureMessages?.[0])}`);
        // A test that passed on its retry keeps the first attempt's error: named, so a flake is fixed, not hidden.
        else if (a.status === "passed" && a.failureMessages?.length)
          notes.push(`${runner} FLAKY (passed on retry): ${where} › ${a.fullName} — ${firstLines(a.failureMessages[0])}`);
      if (t.status === "failed" && !(t.assertionResults ?? []).some((a) => a.status === "failed"))
        notes.push(`${runner} FAILED: ${where} (the file did not run) — ${firstLines(t.message)}`);
    }
  }
  console.log(`${runner}: ${p} passed, ${f} failed`);
  passed += p;
  failed += f;
}
for (const note of notes) console.log(note);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
