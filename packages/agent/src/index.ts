export * from "./drivers.js";
export * from "./errors.js";
export * from "./jobs.js";
export * from "./node-change.js";
export * from "./checks.js";
export { realProbe } from "./checks-probe.js";
export * from "./serve.js";
export * from "./swarm-logs.js";
export * from "./console.js";
