import { sql } from "drizzle-orm";
import { boolean, check, index, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { tenants } from "./tenants.js";

/**
 * The four tables better-auth 1.7 reads and writes through `drizzleAdapter`, written by hand
 * (its generator CLI crashes on Node 20). The adapter addresses columns by their property names,
 * so the camelCase keys below must match better-auth's field names exactly; the SQL names are ours.
 * better-auth checks this shape at run time and refuses to serve on a mismatch.
 */
const at = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export const users = pgTable(
  "users",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    /** Stored lower-case: better-auth lower-cases the address before looking it up at sign-in. */
    email: text("email").notNull().unique(),
    emailVerified: boolean("email_verified").notNull().default(false),
    image: text("image"),
    createdAt: at("created_at").notNull().defaultNow(),
    updatedAt: at("updated_at").notNull().defaultNow(),
    // username plugin: sign-in by name as well as by email.
    username: text("username").unique(),
    displayUsername: text("display_username"),
    // Nimbus: role, tenant membership and the disabled flag (better-auth additionalFields).
    role: text("role").notNull(),
    tenant: text("tenant").references(() => tenants.slug, { onDelete: "restrict" }),
    disabled: boolean("disabled").notNull().default(false),
  },
  (t) => [
    check("users_role_known", sql`${t.role} in ('admin', 'operator', 'oncall', 'tenant')`),
    // Tenant members belong to exactly one tenant; staff roles see every tenant and belong to none.
    check("users_tenant_matches_role", sql`(${t.role} = 'tenant') = (${t.tenant} is not null)`),
    index("users_tenant_idx").on(t.tenant),
  ],
);

export const sessions = pgTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    expiresAt: at("expires_at").notNull(),
    token: text("token").notNull().unique(),
    createdAt: at("created_at").notNull().defaultNow(),
    updatedAt: at("updated_at").notNull().defaultNow(),
    ipAddress: text("ip_address"),
    userAgent: text("user_agent"),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
  },
  (t) => [index("sessions_user_id_idx").on(t.userId)],
);

export const accounts = pgTable(
  "accounts",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id").notNull(),
    providerId: text("provider_id").notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    accessToken: text("access_token"),
    refreshToken: text("refresh_token"),
    idToken: text("id_token"),
    accessTokenExpiresAt: at("access_token_expires_at"),
    refreshTokenExpiresAt: at("refresh_token_expires_at"),
    scope: text("scope"),
    /** argon2id PHC string for the "credential" provider. */
    password: text("password"),
    createdAt: at("created_at").notNull().defaultNow(),
    updatedAt: at("updated_at").notNull().defaultNow(),
  },
  (t) => [index("accounts_user_id_idx").on(t.userId)],
);

export const verifications = pgTable(
  "verifications",
  {
    id: text("id").primaryKey(),
    identifier: text("identifier").notNull(),
    value: text("value").notNull(),
    expiresAt: at("expires_at").notNull(),
    createdAt: at("created_at").notNull().defaultNow(),
    updatedAt: at("updated_at").notNull().defaultNow(),
  },
  (t) => [index("verifications_identifier_idx").on(t.identifier)],
);

/** Keyed by better-auth's model names: pass this as `drizzleAdapter(db, { schema })`. */
export const betterAuthSchema = { user: users, session: sessions, account: accounts, verification: verifications };
