import { request } from "node:http";
import { connect } from "node:net";
import { CHECK_LIMITS, type CheckProbe } from "@nimbus/domain";
import type { ProbeOutcome } from "./checks.js";

/** Words for a failed connect that stay the same probe after probe. */
const reason = (err: NodeJS.ErrnoException) =>
  err.code === "ECONNREFUSED" ? "connection refused" : err.code === "EHOSTUNREACH" ? "host unreachable" : err.code === "ENETUNREACH" ? "network unreachable" : err.code ?? err.message;

/** The real probes: a TCP connect, or an HTTP GET with its status (and a substring of at most 16 KiB of body). */
export function realProbe(probe: CheckProbe, timeoutMs: number): Promise<ProbeOutcome> {
  return probe.kind === "tcp" ? tcpProbe(probe.host, probe.port, timeoutMs) : httpProbe(probe, timeoutMs);
}

function tcpProbe(host: string, port: number, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (outcome: ProbeOutcome) => {
      socket.destroy();
      resolve(outcome);
    };
    socket.setTimeout(timeoutMs, () => done({ ok: false, message: `no connection within ${timeoutMs} ms` }));
    socket.once("connect", () => done({ ok: true, message: "connected" }));
    socket.once("error", (err) => done({ ok: false, message: reason(err) }));
  });
}

function httpProbe(probe: Extract<CheckProbe, { kind: "http" }>, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (outcome: ProbeOutcome) => {
      if (settled) return;
      settled = true;
      req.destroy();
      resolve(outcome);
    };
    const req = request({ host: probe.host, port: probe.port, path: probe.path, method: "GET", timeout: timeoutMs, headers: { "user-agent": "nimbus-agent check" } }, (res) => {
      const status = res.statusCode ?? 0;
      if (status !== probe.expectStatus) return done({ ok: false, message: `HTTP ${status}, expected ${probe.expectStatus}` });
      if (probe.expectBody === null) return done({ ok: true, message: `HTTP ${status}` });
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
        if (body.includes(probe.expectBody!)) done({ ok: true, message: `HTTP ${status}, body matches` });
        else if (body.length > CHECK_LIMITS.bodyBytes) done({ ok: false, message: `HTTP ${status}, body lacks ${JSON.stringify(probe.expectBody)}` });
      });
      res.on("end", () => done(body.includes(probe.expectBody!) ? { ok: true, message: `HTTP ${status}, body matches` } : { ok: false, message: `HTTP ${status}, body lacks ${JSON.stringify(probe.expectBody)}` }));
    });
    req.on("timeout", () => done({ ok: false, message: `no answer within ${timeoutMs} ms` }));
    req.on("error", (err) => done({ ok: false, message: reason(err) }));
    req.end();
  });
}
