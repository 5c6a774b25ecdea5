export * from "./progress.js";
export * from "./swarm-node.js";
export * from "./planner.js";
export * from "./state.js";
export * from "./history.js";
export * from "./run.js";
