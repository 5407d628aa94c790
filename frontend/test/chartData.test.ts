import { describe, expect, it } from "vitest";
import {
  projectionPoints, balanceRows, capacityRows, capacityVerdict, curvesByMetric, heatmapCells, latest, layerRows,
  markersByStep, robustCurve, safeImageUrl, scatterPoints, statusCounts,
} from "../src/chartData";
import { decades } from "../src/charts";
import type { CompareResponse, DatasetDoc, ModelDoc, Report } from "../src/types";
import flagged from "./fixtures/report_flagged.json";
import resampled from "./fixtures/report_resampled.json";
import compareJson from "./fixtures/compare.json";

const report = flagged as unknown as Report;
const dataset = latest<DatasetDoc>(report, "dataset");
const model = latest<ModelDoc>(report, "model");

describe("capacity panel data", () => {
  it("has needs, max and model bars", () => {
    expect(capacityRows(dataset, model)).toEqual([
      { label: "Data needs (expected)", role: "expected", bits: 576 },
      { label: "Memorises above (max)", role: "max", bits: 17820 },
      { label: "Model capacity", role: "model", bits: 137216 },
    ]);
  });
  it("takes the verdict from the capacity finding", () => {
    const v = capacityVerdict(report.findings, dataset, model);
    expect(v.verdict).toBe("oversized");
    expect(v.ratio).toBeCloseTo(137216 / 576);
  });
  it("falls back to where the model falls between expected and max bits", () => {
    const ds = { complexity: { expected_bits: 100, max_bits: 1000 } };
    expect(capacityVerdict([], ds, { bits: 50 }).verdict).toBe("too_small");
    expect(capacityVerdict([], ds, { bits: 500 }).verdict).toBe("matched");
    expect(capacityVerdict([], ds, { bits: 5000 }).verdict).toBe("oversized");
    expect(capacityVerdict([], ds, { bits: null }).verdict).toBeNull();
  });
  it("skips missing numbers", () => {
    expect(capacityRows({ complexity: { expected_bits: null, max_bits: 10 } }, null)).toHaveLength(1);
  });
});

describe("per-layer capacity", () => {
  it("keeps model order and computes each layer's share", () => {
    const rows = layerRows(model);
    expect(rows.map((r) => r.layer)).toEqual(["dense", "dense_1", "dense_2"]);
    expect(rows[0].inputBits).toBeNull();
    expect(rows.reduce((s, r) => s + r.share, 0)).toBeCloseTo(1);
  });
});

describe("class balance", () => {
  it("uses before/after from a resampling record", () => {
    const b = balanceRows(resampled as unknown as Report);
    expect(b.stages).toEqual(["before", "after"]);
    expect(b.rows).toContainEqual({ cls: "1", stage: "before", count: 492 });
    expect(b.rows).toContainEqual({ cls: "1", stage: "after", count: 4920 });
  });
  it("uses the dataset's counts without resampling", () => {
    const b = balanceRows(report);
    expect(b.stages).toEqual(["data"]);
    expect(b.rows).toHaveLength(10);
  });
});

describe("CSG heatmap", () => {
  it("names the cells by class and drops nulls", () => {
    const cells = heatmapCells([[1, 0.2], [null, 1]], ["cat", "dog"]);
    expect(cells).toEqual([
      { row: "cat", col: "cat", value: 1 },
      { row: "cat", col: "dog", value: 0.2 },
      { row: "dog", col: "dog", value: 1 },
    ]);
  });
});

describe("robustness", () => {
  it("counts statuses and pairs the curve", () => {
    const doc = latest<any>(report, "robustness");
    const counts = Object.fromEntries(statusCounts(doc).map((s) => [s.status, s.count]));
    expect(counts.fooled + counts.censored + counts.misclassified).toBe(100);
    expect(robustCurve(doc)).toHaveLength(21);
    expect(robustCurve({ curve: { eps: [0, 0.1, null], robust_accuracy: [1, null, 0.5] } })).toEqual([{ eps: 0, accuracy: 1 }]);
  });
  it("accepts only image data URLs", () => {
    expect(safeImageUrl("data:image/png;base64,iVBORw0KGgo=")).toBe("data:image/png;base64,iVBORw0KGgo=");
    expect(safeImageUrl("javascript:alert(1)")).toBeNull();
    expect(safeImageUrl("data:text/html;base64,PHNjcmlwdD4=")).toBeNull();
    expect(safeImageUrl("data:image/svg+xml;base64,PHN2Zz4=")).toBeNull();
    expect(safeImageUrl("https://example.com/x.png")).toBeNull();
  });
});

describe("curves", () => {
  it("groups series by metric, loss first, and drops non-finite points", () => {
    const by = curvesByMetric([
      { run: "r/train", tag: "epoch_accuracy", metric: "accuracy", split: "train", points: [[0, 0.5], [1, null]] },
      { run: "r/train", tag: "epoch_loss", metric: "loss", split: "train", points: [[0, 1], [1, 0.5]] },
      { run: "r/validation", tag: "epoch_loss", metric: "loss", split: "validation", points: [[0, 1.1]] },
    ]);
    expect([...by.keys()]).toEqual(["loss", "accuracy"]);
    expect(by.get("loss")).toHaveLength(3);
    expect(by.get("accuracy")).toHaveLength(1);
  });
  it("leaves out a constant extra metric (Keras's learning rate) but keeps a changing one", () => {
    const lr = (values: number[]) => ({ run: "r/train", tag: "epoch_learning_rate", metric: "learning_rate", split: "train", points: values.map((v, i) => [i, v] as [number, number]) });
    expect([...curvesByMetric([lr([0.001, 0.001, 0.001])]).keys()]).toEqual([]);
    expect([...curvesByMetric([lr([0.001, 0.0005])]).keys()]).toEqual(["learning_rate"]);
  });
  it("merges markers at one step under the most severe finding", () => {
    expect(markersByStep(report.curves!.markers)).toEqual([
      { step: 0, severity: "error", ids: ["capacity.oversized", "robustness.fragile"] },
      { step: 5, severity: "warning", ids: ["training.overfitting"] },
    ]);
  });
});

describe("robustness vs capacity scatter", () => {
  it("has one point per run with both numbers, ordered along each architecture", () => {
    const pts = scatterPoints((compareJson as CompareResponse).rows);
    expect(pts).toHaveLength(9);
    const mlp = pts.filter((p) => p.architecture === "mlp").map((p) => p.bits);
    expect(mlp).toEqual([...mlp].sort((a, b) => a - b));
    expect(pts.some((p) => p.architecture === "(no architecture)")).toBe(true);
  });
});

describe("log axes", () => {
  it("tick only at powers of ten inside the domain", () => {
    expect(decades(100, 1_000_000)).toEqual([100, 1000, 10000, 100000, 1000000]);
    expect(decades(150, 90000)).toEqual([1000, 10000]);
  });
});

describe("projections", () => {
  it("name classes, mark synthetic points and skip malformed rows", () => {
    const pts = projectionPoints({ points: [[0, 1, 1], [2, 3, 0, 1], [null, 1, 0], "x", [4, 5, 7]] }, ["cat", "dog"]);
    expect(pts).toEqual([
      { x: 0, y: 1, cls: "dog", synthetic: false },
      { x: 2, y: 3, cls: "cat", synthetic: true },
      { x: 4, y: 5, cls: "7", synthetic: false },
    ]);
    expect(projectionPoints(null, [])).toEqual([]);
    expect(projectionPoints({ points: Array.from({ length: 5000 }, () => [0, 0, 0]) }, [], 100)).toHaveLength(100);
  });
});
