import { CreateInstanceRequest, checkQuota, quotaRefusal, type Quota, type QuotaDimension, type QuotaUsage } from "@nimbus/domain";
import { issueText } from "@/lib/errors";

/**
 * The create form's values as typed (strings, so a half-typed number stays on screen) and the
 * request they make. Validation is the domain's own CreateInstanceRequest: the words next to a
 * field are the very words the server would answer with.
 */
export interface CreateFormValues {
  name: string;
  image: string;
  size: SizePresetId | "custom";
  vcpus: string;
  /** GiB in the form (people think in GiB); the request carries MiB. */
  memoryGiB: string;
  diskGiB: string;
  tenant: string;
  vlan: string;
  vni: string;
  /** Empty: placement picks a bridge per host. */
  bridge: string;
  /** One key per line. */
  sshKeys: string;
  /** One command per line. */
  firstBoot: string;
  /** Empty: automatic placement. */
  host: string;
}

export const SIZE_PRESETS = [
  { id: "small", label: "Small", vcpus: 1, memoryGiB: 1, diskGiB: 10 },
  { id: "medium", label: "Medium", vcpus: 2, memoryGiB: 4, diskGiB: 20 },
  { id: "large", label: "Large", vcpus: 4, memoryGiB: 8, diskGiB: 40 },
  { id: "xlarge", label: "X-Large", vcpus: 8, memoryGiB: 16, diskGiB: 80 },
] as const;
export type SizePresetId = (typeof SIZE_PRESETS)[number]["id"];

export const emptyValues = (tenant = "", network?: { vlan: number | null; vni: number | null } | null): CreateFormValues => ({
  name: "",
  image: "",
  size: "small",
  vcpus: "1",
  memoryGiB: "1",
  diskGiB: "10",
  tenant,
  vlan: network?.vlan?.toString() ?? "",
  vni: network?.vni?.toString() ?? "",
  bridge: "",
  sshKeys: "",
  firstBoot: "",
  host: "",
});

/** Choosing a preset fills the three numbers; editing one of them makes the size custom. */
export function withPreset(values: CreateFormValues, id: CreateFormValues["size"]): CreateFormValues {
  const p = SIZE_PRESETS.find((s) => s.id === id);
  if (!p) return { ...values, size: "custom" };
  return { ...values, size: p.id, vcpus: String(p.vcpus), memoryGiB: String(p.memoryGiB), diskGiB: String(p.diskGiB) };
}

/** Numbers typed by hand that happen to be a preset's are that preset: the cards say what the size is. */
export function withSizeField(values: CreateFormValues, key: "vcpus" | "memoryGiB" | "diskGiB", value: string): CreateFormValues {
  const next = { ...values, [key]: value };
  const match = SIZE_PRESETS.find((p) => String(p.vcpus) === next.vcpus.trim() && String(p.memoryGiB) === next.memoryGiB.trim() && String(p.diskGiB) === next.diskGiB.trim());
  return { ...next, size: match?.id ?? "custom" };
}

const lines = (text: string) =>
  text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "");

/** "" stays undefined (the schema then says the field is required); "abc" stays text (it says "a number"). */
const num = (s: string): number | string | undefined => {
  const t = s.trim();
  if (t === "") return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : t;
};

/**
 * The network a tenant's instances already use: the VLAN most of them are on and their VNI. A
 * new instance joins it; null fields when the tenant has no instance yet.
 */
export function tenantNetworkOf(instances: readonly { tenant: string | null; vlans: number[]; vni: number | null }[], tenant: string): { vlan: number | null; vni: number | null } {
  const counts = new Map<number, number>();
  let vni: number | null = null;
  for (const i of instances) {
    if (i.tenant !== tenant) continue;
    vni ??= i.vni;
    for (const v of i.vlans) counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  const vlan = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0] ?? null;
  return { vlan, vni };
}

/** What the form sends, before validation. */
export function requestOf(v: CreateFormValues): Record<string, unknown> {
  const gib = num(v.memoryGiB);
  return {
    name: v.name.trim(),
    image: v.image,
    vcpus: num(v.vcpus),
    memoryMiB: typeof gib === "number" ? Math.round(gib * 1024) : gib,
    diskGiB: num(v.diskGiB),
    tenant: v.tenant,
    network: { vlan: num(v.vlan), vni: num(v.vni), ...(v.bridge ? { bridge: v.bridge } : {}) },
    sshKeys: lines(v.sshKeys),
    firstBoot: lines(v.firstBoot),
    ...(v.host ? { host: v.host } : {}),
  };
}

export type FieldName = "name" | "image" | "vcpus" | "memoryGiB" | "diskGiB" | "tenant" | "vlan" | "vni" | "bridge" | "sshKeys" | "firstBoot" | "host" | "form";
export type FieldErrors = Partial<Record<FieldName, string>>;

/** The form field an issue belongs to: request path → field, with the line for list items. */
function fieldOf(path: readonly PropertyKey[]): { field: FieldName; line: number | null } {
  const [head, second] = path;
  if (head === "network") return { field: second === "vlan" || second === "vni" || second === "bridge" ? second : "vlan", line: null };
  if (head === "memoryMiB") return { field: "memoryGiB", line: null };
  if (head === "sshKeys" || head === "firstBoot") return { field: head, line: typeof second === "number" ? second + 1 : null };
  const known: FieldName[] = ["name", "image", "vcpus", "diskGiB", "tenant", "host"];
  return { field: known.includes(head as FieldName) ? (head as FieldName) : "form", line: null };
}

/** Memory is typed in GiB: the schema's MiB figures are said in GiB too. */
const inGiB = (text: string) => text.replace(/(\d+) MiB/g, (_, mib: string) => `${Number(mib) / 1024} GiB`);

export type Validation = { ok: true; request: CreateInstanceRequest; errors: FieldErrors } | { ok: false; request: null; errors: FieldErrors };

/** The request, or the first problem of each field in words ("line 2: SSH key type … is not accepted"). */
export function validate(values: CreateFormValues): Validation {
  const parsed = CreateInstanceRequest.safeParse(requestOf(values));
  if (parsed.success) return { ok: true, request: parsed.data, errors: {} };
  const errors: FieldErrors = {};
  for (const issue of parsed.error.issues) {
    const { field, line } = fieldOf(issue.path);
    if (errors[field]) continue;
    const text = issueText(issue);
    const said = field === "memoryGiB" ? inGiB(text) : text;
    errors[field] = line ? `line ${line}: ${said}` : said;
  }
  return { ok: false, request: null, errors };
}

export interface QuotaRow {
  dimension: QuotaDimension;
  used: number;
  limit: number | null;
  percent: number | null;
}

/** The quota and usage a list of rows describes (tenants.quota sends rows). */
export function quotaOfRows(rows: readonly QuotaRow[]): { quota: Quota; usage: QuotaUsage } {
  const quota: Quota = { instances: null, vcpus: null, memoryMiB: null, diskGiB: null };
  const usage: QuotaUsage = { instances: 0, vcpus: 0, memoryMiB: 0, diskGiB: 0 };
  for (const r of rows) {
    quota[r.dimension] = r.limit;
    usage[r.dimension] = r.used;
  }
  return { quota, usage };
}

/** Why this request would be refused by its tenant's quota (the domain's own sentence), or null. */
export function quotaProblem(tenant: string, rows: readonly QuotaRow[] | undefined, request: Pick<CreateInstanceRequest, "vcpus" | "memoryMiB" | "diskGiB"> | null): string | null {
  if (!rows || !request) return null;
  const { quota, usage } = quotaOfRows(rows);
  return quotaRefusal(tenant, checkQuota(quota, usage, request));
}
