import { describe, expect, it } from "vitest";
import { doneMigration, failedMigration, migrating, scaling } from "@/fixtures/views";
import { migrationFigures, operationHeadline, operationOutcome } from "./operation-text";

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
    expect(Object.fromEntries(migrationFigures(migrating))).toMatchObject({
      Phase: "copying",
      "Memory copied": "3.4 GiB of 8.0 GiB",
      Bandwidth: "118 MiB/s",
      Iteration: "2",
      "Expected downtime": "180 ms",
    });
  });
});
