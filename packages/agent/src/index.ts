export * from "./drivers.js";
export * from "./errors.js";
export * from "./jobs.js";
export * from "./node-change.js";
export * from "./serve.js";
