import type { FleetView, OperationStore } from "@nimbus/fleet";
import type { TenantLockService } from "./services/tenant-lock.js";
import type { Autoscaler } from "./services/autoscale.js";
import type { AddWorkerRequest, AuditEntry, AuditRecord, CreateSwarmRequest, SwarmNetwork, WorkerPlacement } from "@nimbus/domain";
import type { LoadBalancerService } from "./services/load-balancers.js";
import type { AlertService } from "./services/alert-service.js";
import type { HistoryReader, MetricsReader } from "./services/metrics-recorder.js";
import type {
  CreateInstanceParams,
  ImageBuildRequest,
  ImageImportRequest,
  EvacuationPlan,
  PendingCreate,
  Quota,
  HostMaintenanceView,
  MaintenanceRequest,
  MigrateRequest,
  MoveDiskRequest,
  Operation,
  Role,
  StackDiff,
  TenantInfo,
  Viewer,
} from "@nimbus/domain";

/**
 * What the API needs from the rest of the server. The server wires real implementations (fleet,
 * database, better-auth); tests wire the same ones over the lab. Routers see only these shapes.
 */

export interface UserRow {
  id: string;
  email: string;
  name: string;
  role: Role;
  tenant: string | null;
  disabled: boolean;
  createdAt: string;
}

export interface AuthService {
  viewerFromHeaders(headers: Headers): Promise<Viewer | null>;
  listUsers(): Promise<UserRow[]>;
  createUser(input: { email: string; name: string; password: string; role: Role; tenant: string | null }): Promise<UserRow>;
  setRole(userId: string, role: Role, tenant: string | null): Promise<UserRow>;
  resetPassword(userId: string): Promise<{ password: string }>;
  setDisabled(userId: string, disabled: boolean): Promise<UserRow>;
}

export interface TenantRow extends TenantInfo {
  allowPower: boolean;
  createdAt: string;
}

export interface TenantService {
  list(): Promise<TenantRow[]>;
  /** In-memory map kept current by create/update, for synchronous projections. */
  directory(): ReadonlyMap<string, TenantInfo>;
  get(slug: string): Promise<TenantRow | null>;
  create(input: { slug: string; name: string; vni: number | null; allowPower: boolean }): Promise<TenantRow>;
  update(slug: string, patch: { name?: string; allowPower?: boolean }): Promise<TenantRow>;
  /** The tenant's quota; `custom` false when no admin set one and the default applies. */
  quota(slug: string): Promise<{ quota: Quota; custom: boolean }>;
  setQuota(slug: string, quota: Quota): Promise<{ quota: Quota; custom: boolean }>;
}

/** The audit log's shapes (domain/audit.ts; implemented by @nimbus/db's AuditLog). */
export type { AuditEntry, AuditRecord };

export interface AuditFilter {
  user?: string;
  action?: string;
  target?: string;
  result?: "ok" | "error";
  from?: string;
  to?: string;
}

export interface AuditService {
  append(entry: AuditEntry): Promise<unknown>;
  query(filter: AuditFilter, page: { limit: number; offset?: number; before?: number | null }): Promise<{ records: AuditRecord[]; nextCursor: number | null; total: number }>;
  /** The CSV in chunks, read lazily (an export of 100,000 records is never held whole). */
  exportCsv(filter: AuditFilter): AsyncIterable<string>;
}

export interface OperationsService {
  startMigration(req: MigrateRequest, requestedBy: string): Promise<Operation>;
  startScale(req: { service: string; replicas: number }, requestedBy: string): Promise<Operation>;
  /** Moves one disk of a VM to another datastore. */
  startStorageMove(req: MoveDiskRequest, requestedBy: string): Promise<Operation>;
  /** The dry run of "enter maintenance". */
  planMaintenance(host: string): EvacuationPlan;
  startMaintenance(req: MaintenanceRequest, requestedBy: string): Promise<Operation>;
  /** Replica mode: answered once the host's owner cleared the flag. */
  exitMaintenance(host: string): HostMaintenanceView | Promise<HostMaintenanceView>;
  maintenanceViews(): HostMaintenanceView[];
  /** Records a create on the host placement chose and starts its job (placement and quota are the caller's). */
  startCreate(host: string, params: Omit<CreateInstanceParams, "jobId">, requestedBy: string): Promise<Operation>;
  /** Force off, undefine, release the tenant's network there if last, remove datastore volumes; `tenant` scopes the lookup. */
  startDelete(name: string, requestedBy: string, tenant?: string | null): Promise<Operation>;
  /** Creates recorded and not finished (placement and quotas count them). */
  pendingCreates(): (PendingCreate & { diskGiB: number })[];
  /** Deploys a stack the API checked (planStack): the manager's job runs docker stack deploy and follows the services. */
  startStackDeploy(
    plan: { stack: string; tenant: string | null; labelled: string; services: string[]; diff: StackDiff | null },
    requestedBy: string,
  ): Promise<Operation>;
  /** Builds a base image on the storage server `server` into a datastore's repository (the caller checked the catalog). */
  startImageBuild(server: string, req: ImageBuildRequest, requestedBy: string): Promise<Operation>;
  /** Imports an image on the storage server `server` (the caller checked the catalog). */
  startImageImport(server: string, req: ImageImportRequest, requestedBy: string): Promise<Operation>;
  /** docker stack rm and wait until its services are gone (the caller checked who may). */
  startStackRemove(stack: string, tenant: string | null, services: string[], requestedBy: string): Promise<Operation>;
  /** A service's new image (image set) or a rollback to its previous one (image null); `tenant` scopes the lookup. */
  startServiceUpdate(req: { service: string; image: string | null }, requestedBy: string, tenant?: string | null): Promise<Operation>;
  cancel(id: string): Promise<void>;
  running(): readonly Operation[];
  list: OperationStore["list"];
  page: OperationStore["page"];
  get: OperationStore["get"];
  subscribe(listener: (op: Operation) => void): () => void;
  /** Swarm workers and managers as operations (fleet's SwarmNodeRunner); absent in API test fakes. */
  swarmNodes?: SwarmNodesService;
}

/** What the swarm-nodes router needs from fleet's SwarmNodeRunner. */
export interface SwarmNodesService {
  planWorker(request: AddWorkerRequest | CreateSwarmRequest, role?: "worker" | "manager"): { placement: WorkerPlacement; network: SwarmNetwork | null; problem: string | null };
  addWorker(request: AddWorkerRequest, requestedBy: string): Promise<Operation>;
  createSwarm(request: CreateSwarmRequest, requestedBy: string): Promise<Operation>;
  removeProblem(node: string): string | null;
  removeWorker(node: string, requestedBy: string): Promise<Operation>;
}

export interface ApiDeps {
  fleet: FleetView;
  operations: OperationsService;
  tenants: TenantService;
  auth: AuthService;
  audit: AuditService;
  /** Present only when the embedded lab runs; lets admins inject faults from the UI. */
  lab?: LabControl;
  /** Load balancers (specs in the database); absent in API test fakes: its procedures then refuse. */
  loadBalancers?: LoadBalancerService;
  limits: ApiLimits;
  /** The swarm's autoscaler (policies, decisions, suggestions); absent in API test fakes. */
  autoscale?: Autoscaler;
  /** Alert rules, firing alerts, silences, channels (absent in API test fakes: its procedures then refuse). */
  alerts?: AlertService;
  /** Metric history (charts); absent where no database keeps it (API test fakes). */
  metrics?: MetricsReader;
  /** The health timeline's stored events and transitions; absent like `metrics`. */
  history?: HistoryReader;
  /** Per-tenant lock for quota checks (replica mode: a PostgreSQL advisory lock); in this process when absent. */
  tenantLocks?: TenantLockService;
}

export interface ApiLimits {
  /**
   * Audit records that signed-out calls from one address may leave per window (replica mode:
   * counted in the database, so the limit holds across replicas: @nimbus/db's `DbRateWindow`).
   */
  anonymousAudit: { take(key: string): boolean | Promise<boolean> };
}

export interface LabControl {
  faults: readonly { name: string; args: readonly string[]; description: string }[];
  inject(name: string, args: readonly string[]): Promise<void>;
}
