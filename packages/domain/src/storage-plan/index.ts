export * from "./datastores.js";
export * from "./suggest.js";
export * from "./move-checks.js";
