export * from "./page.js";
export * from "./instances.js";
export * from "./hosts.js";
export * from "./operations.js";
export * from "./health.js";
