export { appRouter, type AppRouter } from "./root.js";
export { createCallerFactory, type Context, type Meta } from "./trpc.js";
export type * from "./deps.js";
export { LiveHub } from "./services/live-hub.js";
export { HealthMonitor } from "./services/health-monitor.js";
export { maskHost } from "./services/projections.js";
export { maskForTenant, tenantSecrets } from "./services/tenant-mask.js";
export { TopologyService, findingChecks, type TopologySnapshot } from "./services/topology.js";
