export * from "./rules.js";
export * from "./evaluate.js";
export * from "./silences.js";
export * from "./metrics.js";
