import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { checkCompose, diffStack, envDigest, jsonPath, normalizeImage, type ComposeContext } from "../../src/swarm/compose.js";
import { COMPOSE_LIMITS, stackNameFor, stacksOf, type SwarmService } from "../../src/index.js";

const svc = (over: Partial<SwarmService> & Pick<SwarmService, "name">): SwarmService => ({
  id: `id-${over.name}`,
  mode: "replicated",
  replicasDesired: 1,
  replicasRunning: 1,
  image: "nginx:1.25",
  ports: [],
  tenant: null,
  stack: null,
  updatedAt: null,
  ...over,
});

const ctx = (over: Partial<ComposeContext> = {}): ComposeContext => ({
  stack: "shop",
  tenant: null,
  running: [],
  nodeImages: new Map([["w1", ["nginx:1.25", "busybox:latest", "redis:7"]]]),
  ...over,
});

const WEB = `services:
  web:
    image: nginx:1.25
    ports: ["8080:80"]
    deploy:
      replicas: 2
    environment:
      MODE: prod
  cache:
    image: redis:7
`;

describe("compose validation", () => {
  it("accepts a valid file and labels every service with the tenant", () => {
    const r = checkCompose(WEB, ctx({ tenant: "acme", stack: "acme-shop" }));
    expect(r.errors).toEqual([]);
    expect(r.model!.services.map((s) => [s.name, s.replicas, s.ports])).toEqual([
      ["web", 2, [{ published: 8080, target: 80, protocol: "tcp", mode: "ingress" }]],
      ["cache", 1, []],
    ]);
    const out = parse(r.labelled!);
    expect(out.services.web.deploy.labels).toEqual({ "nimbus.tenant": "acme" });
    expect(out.services.cache.deploy.labels).toEqual({ "nimbus.tenant": "acme" });
    // docker 20.10 refuses a file without a version ("1.0"): the file sent names 3.8, or keeps its own.
    expect(out.version).toBe("3.8");
    expect(parse(checkCompose(`version: "3.7"\n${WEB}`, ctx()).labelled!).version).toBe("3.7");
  });

  it("replaces a tenant label the file sets itself (list or map form), and strips it for staff without a tenant", () => {
    const forged = `services:\n  a:\n    image: nginx:1.25\n    deploy:\n      labels: ["nimbus.tenant=globex", "team=x"]\n  b:\n    image: nginx:1.25\n    deploy:\n      labels: { nimbus.tenant: globex }\n`;
    const asAcme = parse(checkCompose(forged, ctx({ tenant: "acme" })).labelled!);
    expect(asAcme.services.a.deploy.labels).toEqual({ team: "x", "nimbus.tenant": "acme" });
    expect(asAcme.services.b.deploy.labels).toEqual({ "nimbus.tenant": "acme" });
    const asStaff = parse(checkCompose(forged, ctx({ tenant: null })).labelled!);
    expect(asStaff.services.a.deploy.labels).toEqual({ team: "x" });
    expect(asStaff.services.b.deploy.labels).toEqual({});
  });

  it("names unknown keys and bad types with their path", () => {
    const r = checkCompose(`services:\n  web:\n    image: nginx:1.25\n    replicaz: 3\n    ports: 8080\n    deploy:\n      replicas: two\n`, ctx());
    expect(r.model).toBeNull();
    expect(r.errors).toEqual(
      expect.arrayContaining([
        { path: "services.web.replicaz", message: 'unknown key "replicaz"' },
        { path: "services.web.ports", message: "must be array" },
        { path: "services.web.deploy.replicas", message: "must be integer" },
      ]),
    );
  });

  it("refuses a port another stack publishes, and the same port twice in the file", () => {
    const running = [svc({ name: "blog_web", stack: "blog", ports: [{ published: 8080, target: 80, protocol: "tcp", mode: "ingress" }] })];
    const r = checkCompose(`services:\n  web:\n    image: nginx:1.25\n    ports: ["8080:80"]\n  api:\n    image: nginx:1.25\n    ports: ["9000:80", {target: 81, published: 9000}]\n`, ctx({ running }));
    expect(r.errors).toEqual([
      { path: "services.web.ports[0]", message: "port 8080/tcp is already published by blog_web" },
      { path: "services.api.ports[1]", message: "port 9000/tcp is also published by api in this file" },
    ]);
  });

  it("does not tell a tenant whose service holds a port", () => {
    const running = [svc({ name: "globex_api", stack: "globex", tenant: "globex", ports: [{ published: 8080, target: 80, protocol: "tcp", mode: "ingress" }] })];
    const errors = checkCompose(`services:\n  web:\n    image: nginx:1.25\n    ports: ["8080:80"]\n`, ctx({ running, tenant: "acme", stack: "acme-shop" })).errors;
    expect(errors).toEqual([{ path: "services.web.ports[0]", message: "port 8080/tcp is already published by another tenant's service" }]);
  });

  it("lets a stack keep its own ports on a redeploy, and tells tcp from udp", () => {
    const running = [svc({ name: "shop_web", stack: "shop", ports: [{ published: 8080, target: 80, protocol: "tcp", mode: "ingress" }] }), svc({ name: "dns", ports: [{ published: 53, target: 53, protocol: "udp", mode: "ingress" }] })];
    expect(checkCompose(`services:\n  web:\n    image: nginx:1.25\n    ports: ["8080:80", "53:53/tcp"]\n`, ctx({ running })).errors).toEqual([]);
  });

  it("refuses an image that no node has, and only warns when no node reports images", () => {
    const text = `services:\n  web:\n    image: shop:2\n`;
    expect(checkCompose(text, ctx()).errors).toEqual([{ path: "services.web.image", message: "no node has the image shop:2" }]);
    const r = checkCompose(text, ctx({ nodeImages: null }));
    expect(r.errors).toEqual([]);
    expect(r.warnings[0]!.message).toMatch(/not checked/);
  });

  it("reads the same image under its long names", () => {
    expect(normalizeImage("busybox")).toBe("busybox:latest");
    expect(normalizeImage("docker.io/library/busybox:latest")).toBe("busybox:latest");
    expect(normalizeImage("registry:5000/team/app")).toBe("registry:5000/team/app:latest");
    expect(checkCompose(`services:\n  a:\n    image: docker.io/library/busybox\n`, ctx()).errors).toEqual([]);
  });

  it("keeps tenants inside their namespace: no bind mounts, external networks, host namespaces", () => {
    const text = `services:
  web:
    image: nginx:1.25
    privileged: true
    network_mode: host
    volumes: ["/:/host", "data:/data", {type: bind, source: /etc, target: /x}]
networks:
  other: { external: true }
volumes:
  data: {}
`;
    const paths = checkCompose(text, ctx({ tenant: "acme" })).errors.map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(["services.web.privileged", "services.web.network_mode", "services.web.volumes[0]", "services.web.volumes[2]", "networks.other.external"]));
    expect(paths).not.toContain("services.web.volumes[1]");
    // Staff may (their own risk), except what reads the manager's disk.
    expect(checkCompose(text, ctx({ tenant: null })).errors).toEqual([]);
  });

  it("never reads the manager: env_file, secret files and variables are refused for everyone", () => {
    const text = `services:\n  web:\n    image: nginx:1.25\n    env_file: .env\n    environment: ["HOME_DIR=\${HOME}", "PRICE=$$5"]\nsecrets:\n  key: { file: /etc/shadow }\n`;
    const errors = checkCompose(text, ctx()).errors;
    expect(errors.map((e) => e.path)).toEqual(expect.arrayContaining(["services.web.env_file", "secrets.key.file", "services.web.environment[0]"]));
    expect(errors.map((e) => e.path)).not.toContain("services.web.environment[1]");
  });

  it("refuses hostile YAML: billion laughs, deep nesting, a huge file, duplicate keys, custom tags", () => {
    const laughs = ["a: &a [x,x,x,x,x,x,x,x,x]", ...["b", "c", "d", "e", "f", "g", "h"].map((k, i) => `${k}: &${k} [${Array(9).fill(`*${"abcdefgh"[i]}`).join(",")}]`)].join("\n");
    expect(checkCompose(laughs, ctx()).errors[0]!.message).toMatch(/too many aliases/);
    const deep = `services: ${"[".repeat(5000)}${"]".repeat(5000)}`;
    expect(checkCompose(deep, ctx()).errors.length).toBeGreaterThan(0);
    const nested = `services:\n  web:\n    image: x\n    labels:\n${Array.from({ length: 40 }, (_, i) => `${"  ".repeat(i + 3)}k${i}:`).join("\n")} 1\n`;
    expect(checkCompose(nested, ctx()).errors).toEqual([{ path: "(file)", message: `nested deeper than ${COMPOSE_LIMITS.depth} levels` }]);
    const huge = `services:\n  web:\n    image: nginx:1.25\n    command: "${"x".repeat(COMPOSE_LIMITS.bytes)}"\n`;
    expect(checkCompose(huge, ctx()).errors[0]!.message).toMatch(/at most 64 KiB/);
    expect(checkCompose(`services:\n  web:\n    image: a\n  web:\n    image: b\n`, ctx()).errors[0]!.message).toMatch(/unique/);
    expect(checkCompose(`services:\n  web:\n    image: !!js/function "x"\n`, ctx()).errors[0]!.message).toMatch(/Unresolved tag/);
  });

  it("refuses too many services, an empty file, and a file that is not a map", () => {
    const many = `services:\n${Array.from({ length: COMPOSE_LIMITS.services + 1 }, (_, i) => `  s${i}:\n    image: nginx:1.25`).join("\n")}\n`;
    expect(checkCompose(many, ctx()).errors[0]!.message).toMatch(/at most 50/);
    expect(checkCompose("   \n", ctx()).errors[0]!.message).toMatch(/empty/);
    expect(checkCompose("- a\n- b\n", ctx()).errors[0]!.path).toBe("(top level)");
    expect(checkCompose("services: {}\n", ctx()).errors[0]!.message).toMatch(/no services/);
  });

  it("writes paths the way people read them", () => {
    expect(jsonPath("/services/web/ports/0")).toBe("services.web.ports[0]");
    expect(jsonPath("/services/my.app/x")).toBe('services["my.app"].x');
    expect(jsonPath("")).toBe("(top level)");
  });
});

describe("stack diff", () => {
  const model = checkCompose(WEB, ctx()).model!;

  it("lists every service as added when the stack does not exist", () => {
    const d = diffStack("shop", model, []);
    expect(d.exists).toBe(false);
    expect(d.added.map((a) => [a.name, a.replicas, a.ports])).toEqual([
      ["shop_web", "2", ["8080:80/tcp"]],
      ["shop_cache", "1", []],
    ]);
  });

  it("names what changes per service: image, replicas, ports, environment, networks; and what goes", () => {
    const running = [
      svc({ name: "shop_web", stack: "shop", image: "nginx:1.24", replicasDesired: 1, ports: [{ published: 8081, target: 80, protocol: "tcp", mode: "ingress" }], envDigest: envDigest(["MODE=dev"]) }),
      svc({ name: "shop_cache", stack: "shop", image: "docker.io/library/redis:7", envDigest: envDigest([]) }),
      svc({ name: "shop_old", stack: "shop", image: "busybox:latest" }),
      svc({ name: "blog_web", stack: "blog" }),
    ];
    const networks = [{ name: "shop_default", services: ["shop_web", "shop_cache"] }, { name: "shop_back", services: ["shop_web"] }, { name: "ingress", services: ["shop_web"], ingress: true }];
    const d = diffStack("shop", model, running, networks);
    expect(d.exists).toBe(true);
    expect(d.added).toEqual([]);
    expect(d.removed).toEqual([{ name: "shop_old", image: "busybox:latest" }]);
    expect(d.unchanged).toEqual(["shop_cache"]);
    expect(d.changed).toEqual([
      {
        name: "shop_web",
        changes: [
          { field: "image", from: "nginx:1.24", to: "nginx:1.25" },
          { field: "replicas", from: "1", to: "2" },
          { field: "ports", from: "8081:80/tcp", to: "8080:80/tcp" },
          { field: "environment", from: "as deployed", to: "changed (1 variable)" },
          { field: "networks", from: "shop_back, shop_default", to: "shop_default" },
        ],
      },
    ]);
    // No value of a variable is ever in the diff.
    expect(JSON.stringify(d)).not.toContain("prod");
  });
});

describe("stacks", () => {
  it("group services by stack with their tenant only when all agree", () => {
    const views = stacksOf({
      services: [
        svc({ name: "acme-shop_web", stack: "acme-shop", tenant: "acme", replicasDesired: 2, replicasRunning: 1, ports: [{ published: 8080, target: 80, protocol: "tcp", mode: "ingress" }] }),
        svc({ name: "acme-shop_db", stack: "acme-shop", tenant: "acme" }),
        svc({ name: "mixed_a", stack: "mixed", tenant: "acme" }),
        svc({ name: "mixed_b", stack: "mixed", tenant: "globex" }),
        svc({ name: "lonely" }),
      ],
      tasks: [{ id: "t1", serviceId: "x", serviceName: "acme-shop_web", slot: 2, node: "w1", desiredState: "shutdown", state: "rejected", error: "No such image: shop:2" }],
    });
    expect(views.map((v) => [v.name, v.tenant, v.replicasRunning, v.replicasDesired])).toEqual([
      ["acme-shop", "acme", 2, 3],
      ["mixed", null, 2, 2],
    ]);
    expect(views[0]!.services.find((s) => s.short === "web")!.error).toBe("No such image: shop:2");
    expect(views[0]!.ports).toEqual([{ published: 8080, target: 80, protocol: "tcp", mode: "ingress", nodes: null, nodeCount: null }]);
  });

  it("prefix a tenant's stack name once", () => {
    expect(stackNameFor("acme", "shop")).toBe("acme-shop");
    expect(stackNameFor("acme", "acme-shop")).toBe("acme-shop");
    expect(stackNameFor(null, "shop")).toBe("shop");
  });
});
