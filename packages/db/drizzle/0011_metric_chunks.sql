-- Samples become one row per object and 5-minute bucket. The old one-row-per-sample table is dropped, not
-- converted: a day of it at fleet size is ~200 million rows (minutes of an upgrade); its rollups, which
-- charts read beyond 20 h anyway, are kept, so an upgraded server only lacks the last day at 10-s resolution.
CREATE TABLE "metric_chunks" (
	"object" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"dt" integer[] NOT NULL,
	"v" bytea NOT NULL,
	CONSTRAINT "metric_chunks_object_at_pk" PRIMARY KEY("object","at")
);
--> statement-breakpoint
CREATE INDEX "metric_chunks_at_idx" ON "metric_chunks" USING btree ("at");--> statement-breakpoint
DROP TABLE "metric_samples" CASCADE;