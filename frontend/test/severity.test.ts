import { describe, expect, it } from "vitest";
import { COLOR, countFindings, countLabel, severityRank, sortFindings, SYMBOL, worstOf } from "../src/severity";
import type { Finding } from "../src/types";

const f = (id: string, severity: Finding["severity"]): Finding => ({ id, severity, title: id, evidence: {}, advice: "", step: 0, panel: null });

describe("severity", () => {
  it("orders error < warning < info < ok < unknown", () => {
    expect(["ok", "bogus", "warning", "error", "info", null].sort((a, b) => severityRank(a) - severityRank(b)))
      .toEqual(["error", "warning", "info", "ok", "bogus", null]);
  });
  it("sorts findings most severe first and keeps route order within a severity", () => {
    const out = sortFindings([f("a", "ok"), f("b", "warning"), f("c", "error"), f("d", "warning"), f("e", "info")]);
    expect(out.map((x) => x.id)).toEqual(["c", "b", "d", "e", "a"]);
  });
  it("counts and finds the worst", () => {
    const fs = [f("a", "warning"), f("b", "ok"), f("c", "warning")];
    expect(countFindings(fs)).toEqual({ error: 0, warning: 2, info: 0, ok: 1 });
    expect(worstOf(fs)).toBe("warning");
    expect(worstOf([])).toBeNull();
  });
  it("gives each severity its own shape and colour (not colour alone)", () => {
    expect(new Set(Object.values(SYMBOL)).size).toBe(4);
    expect(new Set(Object.values(COLOR)).size).toBe(4);
  });
  it("pluralises labels", () => {
    expect(countLabel("error", 1)).toBe("1 error");
    expect(countLabel("warning", 2)).toBe("2 warnings");
  });
});
