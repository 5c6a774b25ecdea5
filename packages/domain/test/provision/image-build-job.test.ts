import { describe, expect, it } from "vitest";
import { ImageBuildRequest, imageBuildFailure, imageBuildProblem, imageBuildSteps, imageImportSteps, setStep } from "../../src/index.js";

describe("image build and import as operations", () => {
  it("a build request names a recipe Nimbus knows and a datastore path; anything else is refused with the reason", () => {
    expect(ImageBuildRequest.safeParse({ datastore: "/instance", recipe: "debian-12-docker" }).success).toBe(true);
    const bad = ImageBuildRequest.safeParse({ datastore: "/instance", recipe: "windows-11" });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toBe("the base images Nimbus builds are: debian-12-docker");
    expect(ImageBuildRequest.safeParse({ datastore: "/instance/../etc", recipe: "debian-12-docker" }).success).toBe(false);
  });

  it("a recipe already in the datastore's catalog is refused, saying to delete it first", () => {
    expect(imageBuildProblem({ datastore: "/instance", recipe: "debian-12-docker" }, [{ name: "debian-12" }])).toBeNull();
    expect(imageBuildProblem({ datastore: "/instance", recipe: "debian-12-docker" }, [{ name: "debian-12-docker" }])).toBe(
      "image debian-12-docker already exists on /instance: delete it first to build it again",
    );
  });

  it("steps: check, build, publish for a build; fetch, verify, publish for an import (a download says so)", () => {
    expect(imageBuildSteps({ datastore: "/instance", recipe: "debian-12-docker" }).map((s) => [s.id, s.state])).toEqual([["check", "pending"], ["build", "pending"], ["publish", "pending"]]);
    const steps = imageImportSteps({ datastore: "/instance", name: "x", source: { kind: "url", url: "https://example.org/x.qcow2" }, checksum: { algorithm: "sha256", value: "a".repeat(64) } });
    expect(steps.map((s) => s.id)).toEqual(["fetch", "verify", "publish"]);
    expect(steps[0]!.detail).toBe("download https://example.org/x.qcow2 on the storage server");
  });

  it("a failure names the step and the tool's last line; a cancel names the step it stopped", () => {
    const running = setStep(imageBuildSteps({ datastore: "/instance", recipe: "debian-12-docker" }), "build", "running", "2026-12-07T09:00:00Z");
    const failed = imageBuildFailure(running, "build", "mmdebstrap exited with 1", false);
    expect(failed.message).toBe("Build the image failed: mmdebstrap exited with 1");
    expect(failed.steps.map((s) => s.state)).toEqual(["pending", "failed", "pending"]);
    const cancelled = imageBuildFailure(running, "build", "AbortError", true);
    expect(cancelled.message).toBe('cancelled during "Build the image"');
    expect(cancelled.steps[1]!.log).toEqual(["cancelled"]);
  });
});
