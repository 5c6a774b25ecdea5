import type { Operation } from "@nimbus/domain";
import { afterEach, describe, expect, it } from "vitest";
import { MemoryOperationStore } from "../src/memory-stores.js";
import { OperationManager } from "../src/operations.js";
import { FakeFleet, hypervisor } from "./helpers/fake-fleet.js";

/** Swarm node operations run in the server: after a restart they cannot be resumed, and no agent is asked about them. */
let ops: OperationManager | undefined;
afterEach(() => ops?.stop());

const unfinished = (over: Partial<Operation> = {}): Operation => ({
  id: "op-w",
  kind: "swarm-add-worker",
  state: "running",
  target: { type: "node", name: "worker3" },
  host: "kvm1",
  tenant: null,
  requestedBy: "Ada",
  summary: "Add worker worker3 on kvm1",
  params: { createOperation: "op-c" },
  progress: null,
  steps: [{ id: "join", label: "Wait until the node is Ready", detail: "", state: "running", startedAt: "2026-12-07T09:00:00.000Z", finishedAt: null, log: [] }],
  error: null,
  createdAt: "2026-12-07T09:00:00.000Z",
  updatedAt: "2026-12-07T09:00:00.000Z",
  finishedAt: null,
  ...over,
});

describe("swarm node operations across a server restart", () => {
  it("an add-worker cut short by a restart ends failed, naming the step and the VM's create; its host's agent is not asked", async () => {
    const fleet = new FakeFleet();
    fleet.put(hypervisor("kvm1"));
    const asked: string[] = [];
    fleet.handlers.set("job.list", (host) => (asked.push(host), []));
    const store = new MemoryOperationStore();
    await store.insert(unfinished());
    ops = new OperationManager(fleet, store, { persistIntervalMs: 0 });
    await ops.start();
    const op = await ops.get("op-w");
    expect(op).toMatchObject({ state: "failed", error: expect.stringContaining('interrupted: the server restarted during "Wait until the node is Ready" (the VM\'s create is operation op-c)') });
    expect(asked).toEqual([]);
  });
});
