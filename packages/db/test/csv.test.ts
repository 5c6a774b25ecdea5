import { describe, expect, it } from "vitest";
import { csvCell, toCsv, type AuditRecord } from "../src/index.js";

describe("CSV", () => {
  it.each([
    ["plain", "plain"],
    ["a,b", '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ["two\nlines", '"two\nlines"'],
    ["cr\r", '"cr\r"'],
    [null, ""],
    [42, "42"],
  ])("escapes %j as %j", (value, expected) => {
    expect(csvCell(value)).toBe(expected);
  });

  it.each(["=HYPERLINK(\"http://x\")", "+1", "-1+1", "@SUM(A1)", "\tx"])("defuses the spreadsheet formula %j", (value) => {
    expect(csvCell(value).replace(/^"/, "").startsWith("'")).toBe(true);
  });

  it("writes one header line and one line per record, CRLF-terminated", () => {
    const r: AuditRecord = {
      id: 7, at: "2030-01-01T00:00:00.000Z", userId: "u1", userName: "Ada, Admin", role: "admin", tenant: null,
      action: "users.create", target: "bob@x", inputSummary: { note: 'a "quote"' }, result: "ok", errorCode: null, requestId: "r1", ip: "::1",
    };
    expect(toCsv([r])).toBe(
      "id,at,user_id,user_name,role,tenant,action,target,result,error_code,request_id,ip,input\r\n" +
        '7,2030-01-01T00:00:00.000Z,u1,"Ada, Admin",admin,,users.create,bob@x,ok,,r1,::1,"{""note"":""a \\""quote\\""""}"\r\n',
    );
  });
});
