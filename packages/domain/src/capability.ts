import { z } from "zod";

/** What an agent can do on its host; a module of its own so that fleet and protocol need not import each other. */
export const Capability = z.enum(["virt", "net", "swarm", "storage"]);
export type Capability = z.infer<typeof Capability>;
