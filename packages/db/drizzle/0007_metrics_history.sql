CREATE TABLE "history_events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "history_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"at" timestamp with time zone NOT NULL,
	"kind" text NOT NULL,
	"subject" text NOT NULL,
	"actor" text,
	"previous" text,
	"detail" text NOT NULL,
	CONSTRAINT "history_events_kind_known" CHECK ("history_events"."kind" in ('ack', 'unack', 'vip-lost', 'vip-held'))
);
--> statement-breakpoint
CREATE TABLE "metric_rollups" (
	"object" text NOT NULL,
	"bucket" timestamp with time zone NOT NULL,
	"n" integer NOT NULL,
	"avg" real[] NOT NULL,
	"max" real[] NOT NULL,
	CONSTRAINT "metric_rollups_object_bucket_pk" PRIMARY KEY("object","bucket")
);
--> statement-breakpoint
CREATE TABLE "metric_samples" (
	"object" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"v" real[] NOT NULL,
	CONSTRAINT "metric_samples_object_at_pk" PRIMARY KEY("object","at")
);
--> statement-breakpoint
CREATE INDEX "history_events_subject_idx" ON "history_events" USING btree ("subject","at");--> statement-breakpoint
CREATE INDEX "history_events_at_idx" ON "history_events" USING btree ("at");--> statement-breakpoint
CREATE INDEX "metric_rollups_bucket_idx" ON "metric_rollups" USING btree ("bucket");--> statement-breakpoint
CREATE INDEX "metric_samples_at_idx" ON "metric_samples" USING btree ("at");