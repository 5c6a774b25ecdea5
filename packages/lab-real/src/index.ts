export { RealLab, type Restartable } from "./lab.js";
export { up } from "./up.js";
export { down, type DownReport } from "./down.js";
export { status } from "./status.js";
export { labEnv } from "./env.js";
export { layout, type Layout } from "./layout.js";
export { buildFleetConfig } from "./fleet-config.js";
export * as topology from "./topology.js";
export { LabError } from "./errors.js";
