import { describe, expect, it } from "vitest";
import { DEFAULT_STATE, formatHash, hrefFor, parseHash } from "../src/hashState";

describe("URL hash state", () => {
  it("parses an empty hash to the defaults", () => {
    expect(parseHash("")).toEqual(DEFAULT_STATE);
    expect(parseHash("#")).toEqual(DEFAULT_STATE);
  });
  it("round-trips every field, including run names with slashes, spaces and markup", () => {
    const s = { view: "compare" as const, run: "a b/<img src=x>&c=d#e/debugger", q: "sweep mlp", sev: "warning" as const, sort: "median_eps", desc: true };
    expect(parseHash(formatHash(s))).toEqual(s);
  });
  it("leaves defaults out of the hash", () => {
    expect(formatHash(DEFAULT_STATE)).toBe("");
    expect(formatHash({ ...DEFAULT_STATE, run: "exp1/debugger" })).toBe("#run=exp1%2Fdebugger");
  });
  it("falls back to defaults on unknown values", () => {
    const s = parseHash("#view=nonsense&sev=purple&desc=yes");
    expect(s.view).toBe("report");
    expect(s.sev).toBe("all");
    expect(s.desc).toBe(false);
  });
  it("makes same-document links despite the plugin page's <base href>", () => {
    const loc = { pathname: "/data/plugin_entry.html", search: "?name=nndebug" };
    expect(hrefFor({ ...DEFAULT_STATE, run: "a/debugger" }, loc)).toBe("/data/plugin_entry.html?name=nndebug#run=a%2Fdebugger");
    expect(hrefFor(DEFAULT_STATE, loc)).toBe("/data/plugin_entry.html?name=nndebug#");
  });
});
