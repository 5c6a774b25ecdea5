import { UNLIMITED, isNimbusError, type TenantInfo } from "@nimbus/domain";
import type { TenantQuotas, Tenants } from "@nimbus/db";
import type { TenantRow, TenantService } from "@nimbus/api";

/**
 * Tenants from the database, with an in-memory directory (slug -> VNI) kept current on every
 * write, so projections on the hot path never wait for a query.
 */
export async function tenantService(
  store: Tenants,
  quotas: TenantQuotas,
  opts: { changed?: () => void } = {},
): Promise<TenantService & { reload(): Promise<void> }> {
  const directory = new Map<string, TenantInfo>();
  const remember = <T extends TenantRow>(t: T): T => {
    directory.set(t.slug, { slug: t.slug, name: t.name, vni: t.vni });
    return t;
  };
  // Replica mode: another replica's write (its bus message) reloads ours; ours tells the others.
  const written = <T extends TenantRow>(t: T): T => {
    remember(t);
    opts.changed?.();
    return t;
  };
  for (const t of await store.list()) remember(t);
  return {
    async reload() {
      const rows = await store.list();
      for (const slug of [...directory.keys()]) if (!rows.some((t) => t.slug === slug)) directory.delete(slug);
      for (const t of rows) remember(t);
    },
    list: () => store.list(),
    directory: () => directory,
    get: (slug) => store.get(slug),
    create: async (input) => written(await store.create(input)),
    update: async (slug, patch) => written(await store.update(slug, patch)),
    quota: async (slug) => {
      const set = await quotas.get(slug);
      return set ? { quota: set, custom: true } : { quota: UNLIMITED, custom: false };
    },
    setQuota: async (slug, quota) => ({ quota: await quotas.set(slug, quota), custom: true }),
  };
}

/**
 * Creates the tenants a lab or config file declares, when they do not exist yet. Replicas starting
 * together race for the same ones: the one that loses finds it created (CONFLICT) and goes on.
 */
export async function seedTenants(store: Tenants, declared: readonly { slug: string; name: string; vni: number }[]) {
  for (const t of declared) {
    if (await store.get(t.slug)) continue;
    try {
      await store.create({ slug: t.slug, name: t.name, vni: t.vni, allowPower: false });
    } catch (err) {
      if (!(isNimbusError(err) && err.code === "CONFLICT" && (await store.get(t.slug)))) throw err;
    }
  }
}
