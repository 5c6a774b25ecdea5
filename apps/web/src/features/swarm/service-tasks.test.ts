import { describe, expect, it } from "vitest";
import type { Operation, SwarmTask } from "@nimbus/domain";
import { operationHeadline, operationOutcome } from "@/lib/operation-text";
import { orderTasks, taskName, taskStatus } from "./service-tasks";

const task = (over: Partial<SwarmTask>): SwarmTask => ({ id: "t", serviceId: "s", serviceName: "web", slot: 1, node: "n1", desiredState: "running", state: "running", error: null, ...over });

describe("service tasks", () => {
  it("puts the tasks meant to run first, newest first, then the history", () => {
    const ordered = orderTasks([
      task({ id: "old", desiredState: "shutdown", state: "shutdown", since: "2026-01-01T00:00:05Z" }),
      task({ id: "run2", slot: 2, since: "2026-01-01T00:00:01Z" }),
      task({ id: "ready", desiredState: "ready", state: "rejected", since: "2026-01-01T00:00:09Z" }),
      task({ id: "run1", since: "2026-01-01T00:00:03Z" }),
    ]);
    expect(ordered.map((t) => t.id)).toEqual(["ready", "run1", "run2", "old"]);
  });

  it("names tasks as docker does and gives each state a tone and its word", () => {
    expect(taskName(task({ slot: 3 }))).toBe("web.3");
    expect(taskName(task({ slot: null }))).toBe("web");
    expect(taskStatus("rejected")).toEqual({ tone: "crit", label: "Rejected" });
    expect(taskStatus("running").tone).toBe("ok");
    expect(taskStatus("starting").tone).toBe("accent");
    expect(taskStatus("shutdown").tone).toBe("neutral");
  });
});

describe("update operation words", () => {
  const op = (over: Partial<Operation>): Operation => ({
    id: "o", kind: "service-update", state: "running", target: { type: "service", name: "web" }, host: "m", tenant: null, requestedBy: "a", summary: "", params: {},
    progress: { kind: "service-update", service: "web", image: "nginx:2", state: "updating", message: null, updated: 1, total: 3, taskError: null },
    steps: [], error: null, createdAt: "2026-01-01T00:00:00Z", updatedAt: "2026-01-01T00:00:00Z", finishedAt: null, ...over,
  });
  it("says how far an update is and how it ended", () => {
    expect(operationHeadline(op({}))).toBe("Updating… 1/3 tasks on nginx:2");
    expect(operationOutcome(op({ state: "succeeded", finishedAt: "2026-01-01T00:00:30Z" }))).toBe("web now runs nginx:2 (30 s)");
    expect(operationOutcome(op({ state: "failed", error: "update of web to nginx:2 paused: No such image" }))).toBe("Update of web failed: update of web to nginx:2 paused: No such image");
  });
});
