import { describe, expect, it } from "vitest";
import type { Operation } from "@nimbus/domain";
import { doneMigration, failedMigration, migrating, scaling } from "@/fixtures/views";
import { diskMoving, evacuating, failedDiskMove } from "@/fixtures/moves";
import { migrationFigures, operationHeadline, operationOutcome, operationRoute, storageMoveFigures } from "./operation-text";

describe("operation words", () => {
  it("show progress at once while running", () => {
    expect(operationHeadline(migrating)).toBe("Migrating… 42 %");
    expect(operationHeadline(scaling)).toBe("Scaling 2/4");
  });
  it("say where the VM still runs when a migration fails", () => {
    expect(operationOutcome(failedMigration)).toBe("globex-app still running on kvm1: kvm2 stopped answering during the copy (connection reset)");
  });
  it("say where the VM went, how long it took and the downtime on success", () => {
    expect(operationOutcome(doneMigration)).toBe("worker2 migrated to kvm2 in 30 s, downtime 42 ms");
  });
  it("say a cancelled migration left the VM at the source", () => {
    expect(operationOutcome({ ...migrating, state: "cancelled", finishedAt: migrating.updatedAt })).toBe("Migration cancelled: acme-db still running on kvm1");
  });
  it("name no host to a tenant, whose operations come without params", () => {
    expect(operationOutcome({ ...failedMigration, params: {}, host: "h-3f2a9c01d4" })).toBe(
      "globex-app still running on its host: kvm2 stopped answering during the copy (connection reset)",
    );
  });
  it("list the migration figures people watch", () => {
    const firstPass = { ...migrating, progress: { ...migrating.progress!, iteration: 1 } as Operation["progress"] };
    expect(Object.fromEntries(migrationFigures(firstPass))).toMatchObject({
      Phase: "copying memory",
      Pass: "1, first copy of the memory",
      "Memory copied": "3.4 GiB of 8.0 GiB",
      Bandwidth: "118 MiB/s",
    });
  });
  it("say a later pass re-sends changes instead of 'Memory copied 4.1 GiB of 4.0 GiB'", () => {
    const GiB = 1024 ** 3;
    const second = { ...migrating, progress: { ...migrating.progress!, iteration: 2, memoryTotalBytes: 4 * GiB, memoryProcessedBytes: 4.1 * GiB } as Operation["progress"] };
    const figures = Object.fromEntries(migrationFigures(second));
    expect(figures["Memory copied"]).toBe("all 4.0 GiB, then 102 MiB of changes");
    expect(figures.Pass).toBe("2, re-sending pages the VM changed");
    expect(Object.values(figures).join(" ")).not.toContain("4.1 GiB of 4.0 GiB");
  });
  it("say the expected downtime is the pause at switch-over, not an ETA", () => {
    const slow = { ...migrating, progress: { ...migrating.progress!, expectedDowntimeMs: 54_000 } as Operation["progress"] };
    const figures = Object.fromEntries(migrationFigures(slow));
    expect(figures["Downtime at switch-over"]).toBe("≈ 54 s");
    expect(figures).not.toHaveProperty("Expected downtime");
  });
});

describe("disk move and evacuation words", () => {
  it("say the phase of a disk move in plain words", () => {
    expect(operationHeadline(diskMoving)).toBe("Moving disk… copying 40 %");
    const verifying = { ...diskMoving, progress: { ...(diskMoving.progress as Extract<typeof diskMoving.progress, { kind: "storage-move" }>), phase: "switchover" as const, percent: 99 } };
    expect(operationHeadline(verifying)).toBe("Moving disk… switching over 99 %");
    expect(operationRoute(diskMoving)).toBe("/instance → /instance2");
    expect(Object.fromEntries(storageMoveFigures(diskMoving))).toMatchObject({ Mode: "live block copy", Bandwidth: "100 MiB/s (limit 100 MiB/s)" });
  });
  it("say where the disk is after a move ended", () => {
    expect(operationOutcome({ ...diskMoving, state: "succeeded", finishedAt: diskMoving.updatedAt })).toBe("vda of acme-db moved to /instance2 in 29 s");
    expect(operationOutcome({ ...diskMoving, state: "cancelled", finishedAt: diskMoving.updatedAt })).toBe("Disk move cancelled: vda of acme-db stays on /instance");
    expect(operationOutcome(failedDiskMove)).toMatch(/^vda of acme-db stays on \/instance: block copy/);
  });
  it("count an evacuation's VMs", () => {
    expect(operationHeadline(evacuating)).toBe("Evacuating… 1 of 4 moved, 1 blocked");
    expect(operationOutcome({ ...evacuating, state: "failed", error: "1 VM(s) still on kvm1: globex-app (VLAN 20 missing)", finishedAt: evacuating.updatedAt })).toBe(
      "Evacuation of kvm1 incomplete: 1 VM(s) still on kvm1: globex-app (VLAN 20 missing)",
    );
  });
  it("say what an image build or import came to", () => {
    const base = { ...doneMigration, target: { type: "image" as const, name: "debian-12-docker" }, createdAt: "2026-12-07T09:00:00.000Z", finishedAt: "2026-12-07T09:05:00.000Z", params: {} };
    const built: Operation = { ...base, kind: "image-build", state: "succeeded", progress: { kind: "image-build", steps: [], image: null, cached: true } };
    expect(operationOutcome(built)).toBe("Image debian-12-docker is ready, built in 5 min 0 s (the server's cached build, nothing rebuilt)");
    expect(operationOutcome({ ...built, state: "failed", error: "Build the image failed: mmdebstrap exited with 1" })).toBe("Image debian-12-docker was not built: Build the image failed: mmdebstrap exited with 1");
    expect(operationOutcome({ ...built, kind: "image-import", state: "cancelled", progress: null })).toBe("Import of debian-12-docker cancelled; nothing was published");
    expect(operationHeadline({ ...built, kind: "image-import", state: "running", finishedAt: null, progress: null })).toMatch(/^Importing image/);
  });
});
