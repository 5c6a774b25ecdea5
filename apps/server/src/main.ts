// The one process a user runs (serve.ts). Replica mode says "starting" to the cluster first:
// loading the server's modules takes seconds, and the replicas started with this one should
// know it is coming before their first lease round (starting.ts).
import { announceStarting } from "./starting.js";

announceStarting(process.env);
await import("./serve.js");
