import { UNLIMITED, isNimbusError, type TenantInfo } from "@nimbus/domain";
import type { TenantQuotas, Tenants } from "@nimbus/db";
import type { TenantRow, TenantService } from "@nimbus/api";

/**
 * Tenants from the database, with an in-memory directory (slug -> VNI) kept current on every
 * write, so projections on the hot path never wait for a query.
 */
export async function tenantService(store: Tenants, quotas: TenantQuotas): Promise<TenantService> {
  const directory = new Map<string, TenantInfo>();
  const remember = <T extends TenantRow>(t: T): T => {
    directory.set(t.slug, { slug: t.slug, name: t.name, vni: t.vni });
    return t;
  };
  for (const t of await store.list()) remember(t);
  return {
    list: () => store.list(),
    directory: () => directory,
    get: (slug) => store.get(slug),
    create: async (input) => remember(await store.create(input)),
    update: async (slug, patch) => remember(await store.update(slug, patch)),
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
