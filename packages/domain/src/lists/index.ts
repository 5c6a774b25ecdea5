export * from "./page.js";
export * from "./instances.js";
