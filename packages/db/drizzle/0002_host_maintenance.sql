CREATE TABLE "host_maintenance" (
	"host" text PRIMARY KEY NOT NULL,
	"since" timestamp with time zone DEFAULT now() NOT NULL
);
