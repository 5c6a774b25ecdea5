export * from "./page.js";
export * from "./instances.js";
export * from "./hosts.js";
