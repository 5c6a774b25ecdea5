// Loads the TypeScript worker through tsx's API (a worker gets no loader from --import).
import { tsImport } from "tsx/esm/api";
await tsImport("./busy-lease-worker.ts", import.meta.url);
