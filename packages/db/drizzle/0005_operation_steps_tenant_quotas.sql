CREATE TABLE "tenant_quotas" (
	"tenant" text PRIMARY KEY NOT NULL,
	"instances" integer,
	"vcpus" integer,
	"memory_mib" integer,
	"disk_gib" integer,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tenant_quotas_non_negative" CHECK (coalesce("tenant_quotas"."instances", 0) >= 0 and coalesce("tenant_quotas"."vcpus", 0) >= 0 and coalesce("tenant_quotas"."memory_mib", 0) >= 0 and coalesce("tenant_quotas"."disk_gib", 0) >= 0)
);
--> statement-breakpoint
ALTER TABLE "operations" ADD COLUMN "steps" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "tenant_quotas" ADD CONSTRAINT "tenant_quotas_tenant_tenants_slug_fk" FOREIGN KEY ("tenant") REFERENCES "public"."tenants"("slug") ON DELETE cascade ON UPDATE no action;