CREATE TABLE "alert_channels" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"config" jsonb NOT NULL,
	"secret" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "alert_channels_kind_known" CHECK ("alert_channels"."kind" in ('webhook', 'email'))
);
--> statement-breakpoint
CREATE TABLE "alert_deliveries" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "alert_deliveries_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"alert_id" text NOT NULL,
	"alert_key" text NOT NULL,
	"channel_id" text NOT NULL,
	"event" text NOT NULL,
	"attempt" integer NOT NULL,
	"status" text NOT NULL,
	"status_code" integer,
	"error" text
);
--> statement-breakpoint
CREATE TABLE "alert_rules" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"enabled" boolean NOT NULL,
	"severity" text NOT NULL,
	"for_seconds" integer NOT NULL,
	"condition" jsonb NOT NULL,
	"channels" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"escalation" jsonb,
	"updated_by" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "alert_silences" (
	"id" text PRIMARY KEY NOT NULL,
	"checks" text,
	"labels" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"starts_at" timestamp with time zone NOT NULL,
	"ends_at" timestamp with time zone NOT NULL,
	"created_by" text NOT NULL,
	"comment" text DEFAULT '' NOT NULL
);
--> statement-breakpoint
CREATE TABLE "alerts" (
	"id" text PRIMARY KEY NOT NULL,
	"key" text NOT NULL,
	"rule_id" text NOT NULL,
	"rule_name" text NOT NULL,
	"severity" text NOT NULL,
	"subject" text NOT NULL,
	"category" text NOT NULL,
	"target" text NOT NULL,
	"message" text NOT NULL,
	"affects" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"tenants" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"link" text NOT NULL,
	"since" timestamp with time zone NOT NULL,
	"fired_at" timestamp with time zone NOT NULL,
	"resolved_at" timestamp with time zone,
	"ack_by" text,
	"ack_at" timestamp with time zone,
	"ack_note" text,
	"escalated_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "alert_deliveries_at_idx" ON "alert_deliveries" USING btree ("at");--> statement-breakpoint
CREATE INDEX "alert_deliveries_channel_idx" ON "alert_deliveries" USING btree ("channel_id");--> statement-breakpoint
CREATE INDEX "alert_silences_ends_at_idx" ON "alert_silences" USING btree ("ends_at");--> statement-breakpoint
CREATE UNIQUE INDEX "alerts_open_key_idx" ON "alerts" USING btree ("key") WHERE "alerts"."resolved_at" is null;--> statement-breakpoint
CREATE INDEX "alerts_fired_at_idx" ON "alerts" USING btree ("fired_at");