export * from "./spec.js";
export * from "./config.js";
export * from "./stat.js";
export * from "./backends.js";
export * from "./health.js";
export * from "./view.js";
