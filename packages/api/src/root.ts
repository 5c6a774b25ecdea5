import { router } from "./trpc.js";
import { sessionRouter } from "./routers/session.js";
import { overviewRouter } from "./routers/overview.js";
import { hostsRouter } from "./routers/hosts.js";
import { instancesRouter } from "./routers/instances.js";
import { networkRouter, storageRouter, healthRouter } from "./routers/infra.js";
import { swarmRouter } from "./routers/swarm.js";
import { swarmNodesRouter } from "./routers/swarm-nodes.js";
import { stacksRouter } from "./routers/stacks.js";
import { operationsRouter } from "./routers/operations.js";
import { liveRouter } from "./routers/live.js";
import { adminRouter, auditRouter, labRouter } from "./routers/admin.js";
import { maintenanceRouter } from "./routers/maintenance.js";
import { datastoresRouter } from "./routers/datastores.js";
import { historyRouter } from "./routers/history.js";
import { loadBalancersRouter } from "./routers/load-balancers.js";
import { metricsRouter } from "./routers/metrics.js";
import { imagesRouter, tenantsRouter } from "./routers/tenants.js";
import { alertsRouter } from "./routers/alerts.js";

export const appRouter = router({
  session: sessionRouter,
  overview: overviewRouter,
  hosts: hostsRouter,
  instances: instancesRouter,
  images: imagesRouter,
  tenants: tenantsRouter,
  network: networkRouter,
  swarm: swarmRouter,
  swarmNodes: swarmNodesRouter,
  stacks: stacksRouter,
  storage: storageRouter,
  health: healthRouter,
  alerts: alertsRouter,
  operations: operationsRouter,
  maintenance: maintenanceRouter,
  datastores: datastoresRouter,
  history: historyRouter,
  loadBalancers: loadBalancersRouter,
  metrics: metricsRouter,
  live: liveRouter,
  admin: adminRouter,
  audit: auditRouter,
  lab: labRouter,
});

export type AppRouter = typeof appRouter;
