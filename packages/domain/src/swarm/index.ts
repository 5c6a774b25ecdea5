export * from "./nodes.js";
export * from "./quorum.js";
export * from "./workers.js";
export * from "./autoscale.js";
