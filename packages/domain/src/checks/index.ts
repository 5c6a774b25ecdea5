export * from "./spec.js";
export * from "./http.js";
export * from "./state.js";
export * from "./plan.js";
export * from "./health.js";
export * from "./timers.js";
