// Sums the JSON reports of every runner into the last line CI reads: "N passed, N failed".
import { existsSync, readFileSync } from "node:fs";

let passed = 0;
let failed = 0;
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
  } else {
    // Vitest (jest-compatible JSON); a file that failed to load has failed suites but no tests.
    p = r.numPassedTests;
    f = r.numFailedTests + (r.numFailedTestSuites && !r.numFailedTests ? r.numFailedTestSuites : 0);
  }
  console.log(`${runner}: ${p} passed, ${f} failed`);
  passed += p;
  failed += f;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
