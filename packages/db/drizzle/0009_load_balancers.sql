CREATE TABLE "load_balancers" (
	"name" text PRIMARY KEY NOT NULL,
	"edge_host" text NOT NULL,
	"spec" jsonb NOT NULL,
	"applied_hash" text,
	"applied" jsonb,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "load_balancers_name" CHECK ("load_balancers"."name" ~ '^[a-z][a-z0-9-]{0,31}$')
);
