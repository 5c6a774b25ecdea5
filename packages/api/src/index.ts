export { appRouter, type AppRouter } from "./root.js";
export { createCallerFactory, type Context, type Meta } from "./trpc.js";
export type * from "./deps.js";
export { LiveHub, LIVE_DEFAULTS, StreamLimitReached } from "./services/live-hub.js";
export { HealthMonitor } from "./services/health-monitor.js";
export { maskHost, maskHostsIn } from "./services/projections.js";
export { TopologyService, findingChecks, type TopologySnapshot } from "./services/topology.js";
export { RateWindow } from "./services/rate-window.js";
export { INPUT_LIMITS, inputProblem } from "./input-limits.js";
