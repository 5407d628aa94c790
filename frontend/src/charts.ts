// Charts, drawn with Observable Plot (declarative SVG: axes, scales, legends and
// tooltips come from the library). Colours are Okabe–Ito, which reads on light
// and dark backgrounds; every categorical colour is doubled by a shape, a dash
// or a label.
import * as Plot from "@observablehq/plot";
import { h } from "./dom";
import { naturalCompare } from "./select";
import { fmtInt, fmtNum, fmtPct } from "./format";
import { COLOR, SYMBOL } from "./severity";
import type {
  BalanceRow, CapacityRow, Cell, CurvePoint, LayerRow, ProjectionPoint, ScatterPoint, Verdict,
} from "./chartData";
import type { Marker } from "./types";

export const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999"];
const SPLIT_COLOR: Record<string, string> = { train: "#0072B2", validation: "#CC79A7" };

type Plotted = (SVGSVGElement | HTMLElement) & Plot.Plot;

let pending: (() => void)[] | null = null;

/** From now until takeCharts(), chart() queues its drawing instead of drawing. */
export function collectCharts(): void {
  pending = [];
}

/** The queued drawings since collectCharts(); chart() draws at once again. */
export function takeCharts(): (() => void)[] {
  const jobs = pending ?? [];
  pending = null;
  return jobs;
}

/**
 * A box for a chart, drawn now or (between collectCharts/takeCharts) later, so a
 * report can show its findings before its charts. A chart that fails says so
 * instead of taking the page down.
 */
export function chart(label: string, build: () => Plotted | Element): HTMLElement {
  const box = h("div", { class: "nnd-chart", attrs: { "data-chart": label } });
  const draw = () => {
    box.classList.remove("nnd-chart-pending");
    try {
      box.appendChild(build());
    } catch (e) {
      box.appendChild(h("p", { class: "nnd-muted" }, `This chart could not be drawn (${(e as Error).message}).`));
    }
  };
  if (pending) {
    box.classList.add("nnd-chart-pending");
    pending.push(draw);
  } else {
    draw();
  }
  return box;
}

/** Powers of ten covering [lo, hi]: the only ticks (and grid lines) of a log axis. */
export function decades(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) out.push(10 ** e);
  return out.filter((d) => d >= lo * 0.999 && d <= hi * 1.001);
}

function logDomain(values: number[]): [number, number] {
  const pos = values.filter((v) => v > 0);
  const lo = Math.min(...pos);
  const hi = Math.max(...pos);
  return [10 ** Math.floor(Math.log10(lo)), 10 ** Math.ceil(Math.log10(hi * 4))];
}

const VERDICT_COLOR: Record<Verdict, string> = { too_small: COLOR.error, matched: COLOR.ok, oversized: COLOR.error };
const ROLE_COLOR: Record<CapacityRow["role"], string> = { expected: "#009E73", max: "#E69F00", model: "#0072B2" };

export function capacityChart(rows: CapacityRow[], verdict: Verdict | null, width: number): Plotted {
  const [lo, hi] = logDomain(rows.map((r) => r.bits));
  const expected = rows.find((r) => r.role === "expected")?.bits;
  const max = rows.find((r) => r.role === "max")?.bits;
  const color = (r: CapacityRow) => (r.role === "model" && verdict ? VERDICT_COLOR[verdict] : ROLE_COLOR[r.role]);
  return Plot.plot({
    width,
    height: 36 * rows.length + 56,
    marginLeft: 160,
    marginRight: 20,
    x: { type: "log", domain: [lo, hi], label: "bits (log scale) →", grid: true, ticks: decades(lo, hi), tickFormat: (d: number) => fmtInt(d) },
    y: { domain: rows.map((r) => r.label), label: null },
    marks: [
      expected !== undefined && max !== undefined && max > expected
        ? Plot.rectX([0], { x1: expected, x2: max, fill: "#009E73", fillOpacity: 0.1, title: () => "Right-sized: at least what the data needs, below where memorising starts" })
        : null,
      Plot.barX(rows, { x1: lo, x2: "bits", y: "label", fill: color, title: (r: CapacityRow) => `${r.label}: ${fmtInt(r.bits)} bits` }),
      Plot.text(rows, { x: "bits", y: "label", text: (r: CapacityRow) => `${fmtInt(r.bits)} bits`, dx: 6, textAnchor: "start", fill: "currentColor" }),
    ],
  });
}

export function layersChart(rows: LayerRow[], width: number): Plotted {
  const maxBits = Math.max(...rows.map((r) => r.bits));
  return Plot.plot({
    width,
    height: 22 * rows.length + 48,
    marginLeft: 150,
    marginRight: 110,
    x: { label: "capacity (bits) →", grid: true, domain: [0, maxBits], tickFormat: (d: number) => fmtInt(d) },
    y: { domain: rows.map((r) => r.layer), label: null },
    marks: [
      Plot.barX(rows, {
        x: "bits", y: "layer", fill: "#0072B2",
        title: (r: LayerRow) => `${r.layer} (${r.kind})\ncapacity ${fmtInt(r.bits)} bits (${fmtPct(r.share)})\nparams ${fmtInt(r.params)}\ninput ${r.inputBits === null ? "∞" : fmtInt(r.inputBits)} bits · output ${fmtInt(r.outputBits)} bits`,
      }),
      Plot.text(rows, { x: "bits", y: "layer", text: (r: LayerRow) => `${fmtInt(r.bits)} · ${fmtPct(r.share, 0)}`, dx: 6, textAnchor: "start", fill: "currentColor" }),
      Plot.ruleX([0]),
    ],
  });
}

export function balanceChart(rows: BalanceRow[], stages: string[], width: number): Plotted {
  const classes = [...new Set(rows.map((r) => r.cls))];
  const stageColor = stages.length === 2 ? ["#999999", "#0072B2"] : ["#0072B2"];
  return Plot.plot({
    // a few classes get narrow bars, not half the page each
    width: Math.min(width, 120 + classes.length * stages.length * 56),
    height: 240,
    marginBottom: classes.length > 12 ? 60 : 40,
    fx: { label: "class", domain: classes, tickRotate: classes.length > 12 ? -45 : 0, padding: 0.15 },
    x: { axis: null, domain: stages },
    y: { label: "↑ samples", grid: true, tickFormat: (d: number) => fmtInt(d) },
    color: { domain: stages, range: stageColor, legend: stages.length > 1 },
    marks: [
      Plot.barY(rows, { fx: "cls", x: "stage", y: "count", fill: "stage", title: (r: BalanceRow) => `class ${r.cls}, ${r.stage}: ${fmtInt(r.count)}` }),
      Plot.ruleY([0]),
    ],
  });
}

export function heatmapChart(cells: Cell[], classes: string[], width: number): Plotted {
  const k = classes.length;
  const cell = Math.max(14, Math.min(44, Math.floor((width - 120) / Math.max(1, k))));
  const showText = k <= 12;
  // The diagonal (a class with itself) is 1 by construction; scaling colours to the
  // largest off-diagonal value makes the overlaps that matter visible.
  const off = cells.filter((c) => c.row !== c.col).map((c) => c.value);
  const top = Math.max(1e-9, ...(off.length ? off : cells.map((c) => c.value)));
  return Plot.plot({
    width: 100 + cell * k + 20,
    height: 60 + cell * k + 40,
    marginLeft: 100,
    marginTop: 10,
    marginBottom: 60,
    padding: 0.04,
    x: { domain: classes, label: "class", tickRotate: k > 8 ? -45 : 0 },
    y: { domain: classes, label: "class" },
    color: { scheme: "viridis", legend: true, label: "similarity (off-diagonal range; diagonal clipped)", domain: [0, top], clamp: true },
    marks: [
      Plot.cell(cells, { x: "col", y: "row", fill: "value", title: (c: Cell) => `${c.row} ↔ ${c.col}: ${fmtNum(c.value)}` }),
      showText
        ? Plot.text(cells, {
          x: "col", y: "row", text: (c: Cell) => fmtNum(c.value, 2), fontSize: 9,
          fill: (c: Cell) => (c.value > 0.6 * top ? "black" : "white"),
        })
        : null,
    ],
  });
}

export function integerBins(values: number[]): boolean {
  return values.length > 0 && values.every(Number.isInteger) && Math.max(...values) - Math.min(...values) <= 40;
}

export function histogramChart(values: number[], label: string, median: number | null, width: number, fmt: (v: number) => string): Plotted {
  return Plot.plot({
    width,
    height: 200,
    x: { label: `${label} →`, tickFormat: fmt },
    y: { label: "↑ samples", grid: true },
    marks: [
      Plot.rectY(values, {
        // whole numbers (pixel counts) get one bar per value when that is few enough
        ...Plot.binX({ y: "count" }, integerBins(values) ? { x: (d: number) => d, interval: 1 } : { x: (d: number) => d, thresholds: 20 }),
        fill: "#0072B2", insetLeft: 0.5, insetRight: 0.5,
      }),
      median !== null ? Plot.ruleX([median], { stroke: "#D55E00", strokeWidth: 2, strokeDasharray: "4,3" }) : null,
      median !== null ? Plot.text([median], { x: (d: number) => d, frameAnchor: "top", text: () => `median ${fmt(median)}`, dy: -2, textAnchor: "start", dx: 4, fill: "currentColor" }) : null,
      Plot.ruleY([0]),
    ],
  });
}

export function robustCurveChart(points: { eps: number; accuracy: number }[], width: number): Plotted {
  return Plot.plot({
    width,
    height: 200,
    x: { label: "ε →", tickFormat: (d: number) => fmtNum(d) },
    y: { label: "↑ robust accuracy", domain: [0, 1], grid: true, tickFormat: (d: number) => `${Math.round(d * 100)}%` },
    marks: [
      Plot.lineY(points, { x: "eps", y: "accuracy", stroke: "#0072B2", strokeWidth: 2 }),
      Plot.dot(points, { x: "eps", y: "accuracy", fill: "#0072B2", r: 2.5, title: (p: { eps: number; accuracy: number }) => `ε ${fmtNum(p.eps)}: ${fmtPct(p.accuracy)}` }),
      Plot.ruleY([0]),
    ],
  });
}

export interface StepMarker {
  step: number;
  severity: Marker["severity"];
  ids: string[];
}

export function curveChart(metric: string, points: CurvePoint[], markers: StepMarker[], width: number): Plotted {
  const splits = [...new Set(points.map((p) => p.split))].sort();
  const isAcc = /acc/.test(metric);
  return Plot.plot({
    width,
    height: 220,
    marginTop: 24,
    x: { label: "epoch →", tickFormat: (d: number) => (Number.isInteger(d) ? String(d) : "") },
    y: { label: `↑ ${metric}`, grid: true, tickFormat: isAcc ? (d: number) => fmtNum(d) : undefined },
    color: { domain: splits, range: splits.map((s, i) => SPLIT_COLOR[s] ?? PALETTE[(i + 3) % PALETTE.length]), legend: true },
    marks: [
      Plot.ruleX(markers, { x: "step", stroke: (m: StepMarker) => COLOR[m.severity], strokeDasharray: "4,3", strokeWidth: 1.5 }),
      Plot.text(markers, {
        x: "step", frameAnchor: "top", dy: -14, text: (m: StepMarker) => SYMBOL[m.severity],
        fill: (m: StepMarker) => COLOR[m.severity], fontSize: 13, title: (m: StepMarker) => `epoch ${m.step}: ${m.ids.join(", ")}`,
      }),
      ...splits.map((split) => Plot.lineY(points.filter((p) => p.split === split), {
        x: "step", y: "value", stroke: "split", strokeWidth: 2, strokeDasharray: split === "train" ? undefined : "6,3",
      })),
      Plot.dot(points, { x: "step", y: "value", fill: "split", r: 2.5 }),
      Plot.tip(points, Plot.pointer({ x: "step", y: "value", title: (p: CurvePoint) => `${p.split} ${p.metric}\nepoch ${p.step}: ${fmtNum(p.value, 4)}` })),
    ],
  });
}

export function scatterChart(points: ScatterPoint[], width: number): Plotted {
  const archs = [...new Set(points.map((p) => p.architecture))];
  const bits = points.map((p) => p.bits);
  const [lo, hi] = [Math.min(...bits) / 1.5, Math.max(...bits) * 1.5];
  const ticks = decades(lo, hi);
  return Plot.plot({
    width,
    height: 300,
    marginLeft: 56,
    x: { type: "log", domain: [lo, hi], label: "model capacity (bits, log scale) →", grid: true, ticks: ticks.length >= 2 ? ticks : undefined, tickFormat: (d: number) => fmtInt(d) },
    y: { label: "↑ median minimal ε (robustness)", grid: true, tickFormat: (d: number) => fmtNum(d) },
    color: { domain: archs, range: PALETTE, legend: true },
    symbol: { domain: archs, legend: false },
    marks: [
      Plot.lineY(points, { x: "bits", y: "eps", stroke: "architecture", z: "architecture", strokeOpacity: 0.7 }),
      Plot.dot(points, { x: "bits", y: "eps", stroke: "architecture", fill: "architecture", symbol: "architecture", r: 4 }),
      Plot.tip(points, Plot.pointer({ x: "bits", y: "eps", title: (p: ScatterPoint) => `${p.run}\n${p.architecture}${p.level !== null ? ` · level ${fmtNum(p.level)}` : ""}\n${fmtInt(p.bits)} bits · median ε ${fmtNum(p.eps)}` })),
    ],
  });
}

export function projectionChart(points: ProjectionPoint[], width: number, method: string): Plotted {
  const classes = [...new Set(points.map((p) => p.cls))].sort(naturalCompare);
  const withSynthetic = points.some((p) => p.synthetic);
  return Plot.plot({
    width,
    height: Math.min(360, Math.max(220, Math.round(width * 0.6))),
    x: { label: `${method} 1 →`, ticks: 4 },
    y: { label: `↑ ${method} 2`, ticks: 4 },
    color: { domain: classes, scheme: "tableau10", legend: classes.length <= 20, label: "class" },
    symbol: withSynthetic ? { domain: ["original", "synthetic"], range: ["circle", "times"], legend: true } : undefined,
    marks: [
      Plot.dot(points, {
        x: "x", y: "y", stroke: "cls", r: 2.2, strokeOpacity: 0.75,
        symbol: withSynthetic ? (p: ProjectionPoint) => (p.synthetic ? "synthetic" : "original") : undefined,
      }),
    ],
  });
}
