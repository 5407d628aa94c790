import { describe, expect, it } from "vitest";
import { COMPARE_COLUMNS, filterRuns, matchesText, naturalCompare, sortRows, sortRunsBySeverity } from "../src/select";
import type { CompareResponse, RunsResponse } from "../src/types";
import runsJson from "./fixtures/runs.json";
import compareJson from "./fixtures/compare.json";

const runs = (runsJson as RunsResponse).runs;
const rows = (compareJson as CompareResponse).rows;

describe("runs sidebar", () => {
  it("puts the sickest runs first, then by name", () => {
    expect(sortRunsBySeverity(runs).map((r) => r.run)).toEqual([
      "exp_big/debugger",
      "<img src=x onerror=alert(1)>/debugger",
      "exp_skewed/debugger",
      "sweep/mlp_0.50/debugger",
      "exp_clean/debugger",
      "empty/debugger",
    ]);
  });
  it("filters by every whitespace-separated term, case-insensitively", () => {
    expect(matchesText("sweep/MLP_0.50/debugger", "mlp sweep")).toBe(true);
    expect(matchesText("sweep/mlp_0.50/debugger", "cnn")).toBe(false);
    expect(matchesText("anything", "   ")).toBe(true);
  });
  it("filters by severity", () => {
    expect(filterRuns(runs, "", "error").map((r) => r.run)).toEqual(["exp_big/debugger", "<img src=x onerror=alert(1)>/debugger"]);
    expect(filterRuns(runs, "", "warning")).toHaveLength(3);
    expect(filterRuns(runs, "", "clean").map((r) => r.worst)).toEqual(["ok", "info", null]);
    expect(filterRuns(runs, "exp", "clean").map((r) => r.run)).toEqual(["exp_clean/debugger"]);
  });
  it("compares names naturally", () => {
    expect(["run_10", "run_2", "run_1"].sort(naturalCompare)).toEqual(["run_1", "run_2", "run_10"]);
  });
});

describe("compare table sorting", () => {
  it("sorts numbers ascending and descending, missing values last both ways", () => {
    const asc = sortRows(rows, "model_bits", false);
    const desc = sortRows(rows, "model_bits", true);
    const bits = (rs: typeof rows) => rs.map((r) => r.model_bits);
    expect(bits(asc).slice(0, -1)).toEqual([...bits(asc).slice(0, -1)].sort((a, b) => (a as number) - (b as number)));
    expect(asc.at(-1)!.model_bits).toBeNull();
    expect(desc[0].run).toBe("exp_big/debugger");
    expect(desc.at(-1)!.model_bits).toBeNull();
  });
  it("sorts by finding counts and by worst severity by default", () => {
    expect(sortRows(rows, "errors", true)[0].run).toBe("exp_big/debugger");
    expect(sortRows(rows, null, false).map((r) => r.worst).slice(0, 2)).toEqual(["error", "warning"]);
  });
  it("sorts text columns naturally", () => {
    const names = sortRows(rows, "run", false).map((r) => r.run);
    expect(names[0]).toBe("exp_big/debugger");
    expect(names.indexOf("sweep/cnn_0.25/debugger")).toBeLessThan(names.indexOf("sweep/mlp_0.25/debugger"));
  });
  it("has unique column keys", () => {
    expect(new Set(COMPARE_COLUMNS.map((c) => c.key)).size).toBe(COMPARE_COLUMNS.length);
  });
});
