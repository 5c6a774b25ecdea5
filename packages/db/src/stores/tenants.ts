import { asc, eq, sql } from "drizzle-orm";
import { NimbusError, TenantSlug, Vni } from "@nimbus/domain";
import type { z } from "zod";
import type { Db } from "../open.js";
import { constraintName, sqlState, UNIQUE_VIOLATION } from "../errors.js";
import { tenants, users } from "../schema/index.js";

export interface Tenant {
  slug: string;
  name: string;
  vni: number;
  allowPower: boolean;
  createdAt: string;
}

export interface TenantMember {
  id: string;
  name: string;
  email: string;
  username: string | null;
  disabled: boolean;
}

export interface VniPool {
  first: number;
  last: number;
}

/** VNIs handed out when an admin creates a tenant without choosing one. */
export const DEFAULT_VNI_POOL: VniPool = { first: 5000, last: 5999 };

/** Two admins creating tenants at once may pick the same free VNI; the loser tries the next one. */
const MAX_ALLOCATION_ATTEMPTS = 5;

export class Tenants {
  private readonly pool: VniPool;

  constructor(
    private readonly db: Db,
    opts: { vniPool?: VniPool } = {},
  ) {
    this.pool = opts.vniPool ?? DEFAULT_VNI_POOL;
  }

  /**
   * Creates a tenant with the VNI given, or (vni absent or null) the lowest free one in the pool.
   * An explicit VNI may lie outside the pool (tenants imported from an existing network keep
   * theirs) but must be unused.
   */
  async create(input: { slug: string; name: string; vni?: number | null; allowPower?: boolean }): Promise<Tenant> {
    const slug = parse(TenantSlug, input.slug, "tenant id");
    const name = input.name.trim();
    if (!name) throw new NimbusError("BAD_INPUT", `Tenant ${slug} needs a name.`, { slug });
    const allowPower = input.allowPower ?? false;
    if (input.vni !== undefined && input.vni !== null) {
      const vni = parse(Vni, input.vni, "VNI");
      return this.insertExplicit(slug, name, vni, allowPower);
    }
    for (let attempt = 0; attempt < MAX_ALLOCATION_ATTEMPTS; attempt++) {
      try {
        return await this.insertNextFree(slug, name, allowPower);
      } catch (e) {
        if (!(isUnique(e) && constraintName(e) === "tenants_vni_unique")) throw await this.explain(e, slug);
      }
    }
    throw new NimbusError("CONFLICT", `Could not allocate a VNI for tenant ${slug}: others are being created at the same time. Try again.`, { slug });
  }

  async update(slug: string, changes: { name?: string; allowPower?: boolean }): Promise<Tenant> {
    const set: Partial<typeof tenants.$inferInsert> = {};
    if (changes.name !== undefined) {
      const name = changes.name.trim();
      if (!name) throw new NimbusError("BAD_INPUT", `Tenant ${slug} needs a name.`, { slug });
      set.name = name;
    }
    if (changes.allowPower !== undefined) set.allowPower = changes.allowPower;
    if (Object.keys(set).length === 0) return this.require(slug);
    const [row] = await this.db.update(tenants).set(set).where(eq(tenants.slug, slug)).returning();
    if (!row) throw notFound(slug);
    return fromRow(row);
  }

  async get(slug: string): Promise<Tenant | null> {
    const [row] = await this.db.select().from(tenants).where(eq(tenants.slug, slug));
    return row ? fromRow(row) : null;
  }

  async require(slug: string): Promise<Tenant> {
    const t = await this.get(slug);
    if (!t) throw notFound(slug);
    return t;
  }

  async list(): Promise<Tenant[]> {
    const rows = await this.db.select().from(tenants).orderBy(asc(tenants.slug));
    return rows.map(fromRow);
  }

  /** Users who belong to the tenant. Membership is changed through the user admin (audited). */
  async members(slug: string): Promise<TenantMember[]> {
    await this.require(slug);
    return this.db
      .select({ id: users.id, name: users.name, email: users.email, username: users.username, disabled: users.disabled })
      .from(users)
      .where(eq(users.tenant, slug))
      .orderBy(asc(users.name));
  }

  private async insertExplicit(slug: string, name: string, vni: number, allowPower: boolean): Promise<Tenant> {
    try {
      const [row] = await this.db.insert(tenants).values({ slug, name, vni, allowPower }).returning();
      return fromRow(row!);
    } catch (e) {
      throw await this.explain(e, slug, vni);
    }
  }

  private async insertNextFree(slug: string, name: string, allowPower: boolean): Promise<Tenant> {
    const { first, last } = this.pool;
    // Both drivers answer execute() with { rows }; drizzle's shared type does not say so.
    const result = (await this.db.execute(sql`
      insert into ${tenants} (slug, name, vni, allow_power)
      select ${slug}, ${name}, s, ${allowPower}
        from generate_series(${first}::int, ${last}::int) as s
       where not exists (select 1 from ${tenants} t where t.vni = s)
       order by s
       limit 1
      returning slug`)) as unknown as { rows: { slug: string }[] };
    if (result.rows.length === 0) {
      throw new NimbusError(
        "CONFLICT",
        `The VNI pool ${first}-${last} is exhausted: every VNI in it belongs to a tenant. Give tenant ${slug} an explicit VNI outside the pool.`,
        { slug, pool: this.pool },
      );
    }
    return this.require(slug);
  }

  private async explain(e: unknown, slug: string, vni?: number): Promise<unknown> {
    if (!isUnique(e)) return e;
    if (constraintName(e) === "tenants_vni_unique" && vni !== undefined) {
      const [holder] = await this.db.select({ slug: tenants.slug }).from(tenants).where(eq(tenants.vni, vni));
      return new NimbusError("CONFLICT", `VNI ${vni} already belongs to tenant ${holder?.slug ?? "(another tenant)"}.`, { vni });
    }
    return new NimbusError("CONFLICT", `Tenant ${slug} already exists.`, { slug });
  }
}

const isUnique = (e: unknown) => sqlState(e) === UNIQUE_VIOLATION;
const notFound = (slug: string) => new NimbusError("NOT_FOUND", `Tenant ${slug} does not exist.`, { slug });

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new NimbusError("BAD_INPUT", `Invalid ${what} ${JSON.stringify(value)}: ${r.error.issues[0]?.message ?? "rejected"}.`, { value });
  return r.data;
}

const fromRow = (r: typeof tenants.$inferSelect): Tenant => ({
  slug: r.slug,
  name: r.name,
  vni: r.vni,
  allowPower: r.allowPower,
  createdAt: r.createdAt.toISOString(),
});
