export * from "./tenants.js";
export * from "./auth.js";
export * from "./nimbus.js";
export * from "./alerts.js";
export * from "./metrics.js";
export * from "./autoscale.js";
export * from "./load-balancers.js";
export * from "./cluster.js";
