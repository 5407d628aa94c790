// Pure shaping of record documents into the flat rows the charts draw.
import type {
  Balance, CompareRow, CurveSeries, DatasetDoc, Finding, Marker, ModelDoc, RecordEntry,
  Report, ResamplingDoc, RobustnessDoc,
} from "./types";
import { isNum } from "./format";
import { severityRank } from "./severity";

/** The latest value of the first tag of a record kind (tags named like the kind win). */
export function latest<T>(report: Report, kind: string): T | null {
  const entries = report.records?.[kind];
  if (!entries || entries.length === 0) return null;
  const preferred = entries.find((e) => e.tag === kind || e.tag.endsWith(`/${kind}`)) ?? entries[0];
  return (preferred.value as T) ?? null;
}

export function allOf<T>(report: Report, kind: string): RecordEntry<T>[] {
  return (report.records?.[kind] ?? []) as unknown as RecordEntry<T>[];
}

export type Verdict = "too_small" | "matched" | "oversized";

export interface CapacityRow {
  label: string;
  role: "expected" | "max" | "model";
  bits: number;
}

/** Bars for the capacity panel: what the data needs, where memorising starts, the model. */
export function capacityRows(dataset: DatasetDoc | null, model: ModelDoc | null): CapacityRow[] {
  const rows: CapacityRow[] = [];
  const c = dataset?.complexity;
  if (c && isNum(c.expected_bits)) rows.push({ label: "Data needs (expected)", role: "expected", bits: c.expected_bits });
  if (c && isNum(c.max_bits)) rows.push({ label: "Memorises above (max)", role: "max", bits: c.max_bits });
  if (model && isNum(model.bits)) rows.push({ label: "Model capacity", role: "model", bits: model.bits });
  return rows;
}

/**
 * The capacity verdict: from a capacity.* finding when the diagnosis gave one,
 * otherwise from where the model's bits fall between expected and max bits.
 */
export function capacityVerdict(
  findings: readonly Finding[], dataset: DatasetDoc | null, model: ModelDoc | null,
): { verdict: Verdict | null; ratio: number | null; finding: Finding | null } {
  const expected = dataset?.complexity?.expected_bits;
  const max = dataset?.complexity?.max_bits;
  const bits = model?.bits;
  const ratio = isNum(bits) && isNum(expected) && expected > 0 ? bits / expected : null;
  const finding = findings.find((f) => f.id.startsWith("capacity.")) ?? null;
  const fromId = finding?.id.split(".")[1];
  if (fromId === "too_small" || fromId === "matched" || fromId === "oversized") {
    return { verdict: fromId, ratio, finding };
  }
  if (!isNum(bits) || !isNum(expected)) return { verdict: null, ratio, finding };
  if (bits < expected) return { verdict: "too_small", ratio, finding };
  if (isNum(max) && bits > max) return { verdict: "oversized", ratio, finding };
  return { verdict: "matched", ratio, finding };
}

export interface LayerRow {
  order: number;
  layer: string;
  kind: string;
  bits: number;
  params: number | null;
  inputBits: number | null;
  outputBits: number | null;
  share: number;
}

/** One bar per layer with capacity, in model order (the paper's Figure 2). */
export function layerRows(model: ModelDoc | null): LayerRow[] {
  const layers = (model?.layers ?? []).filter((l) => isNum(l.capacity_bits));
  const total = layers.reduce((s, l) => s + (l.capacity_bits as number), 0);
  return layers.map((l, i) => ({
    order: i,
    layer: l.name,
    kind: l.kind,
    bits: l.capacity_bits as number,
    params: isNum(l.params) ? l.params : null,
    inputBits: isNum(l.input_bits) ? l.input_bits : null,
    outputBits: isNum(l.output_bits) ? l.output_bits : null,
    share: total > 0 ? (l.capacity_bits as number) / total : 0,
  }));
}

export interface BalanceRow {
  cls: string;
  stage: string;
  count: number;
}

function rowsOf(counts: Record<string, number> | undefined, stage: string): BalanceRow[] {
  return Object.entries(counts ?? {})
    .filter(([, v]) => isNum(v))
    .map(([cls, count]) => ({ cls, stage, count }));
}

/**
 * Class counts per stage: "before"/"after" from a resampling record or from
 * balance records with a stage; otherwise the dataset's own counts as "data".
 */
export function balanceRows(report: Report): { rows: BalanceRow[]; stages: string[]; source: string } {
  const res = latest<ResamplingDoc>(report, "resampling");
  if (res?.before && res?.after) {
    return {
      rows: [...rowsOf(res.before, "before"), ...rowsOf(res.after, "after")],
      stages: ["before", "after"],
      source: res.method ? `resampling: ${res.method}` : "resampling",
    };
  }
  const balances = allOf<Balance>(report, "balance");
  const before = balances.find((b) => b.value?.stage === "before")?.value;
  const after = balances.find((b) => b.value?.stage === "after")?.value;
  if (before && after) {
    return { rows: [...rowsOf(before.counts, "before"), ...rowsOf(after.counts, "after")], stages: ["before", "after"], source: "balance records" };
  }
  const one = balances[0]?.value ?? latest<DatasetDoc>(report, "dataset")?.balance ?? null;
  if (one?.counts) return { rows: rowsOf(one.counts, "data"), stages: ["data"], source: "dataset" };
  return { rows: [], stages: [], source: "" };
}

export interface Cell {
  row: string;
  col: string;
  value: number;
}

/** K×K similarity cells with class names (falling back to indices). */
export function heatmapCells(matrix: (number | null)[][] | undefined, classes: string[] | undefined): Cell[] {
  if (!Array.isArray(matrix)) return [];
  const name = (i: number) => (classes && classes[i] !== undefined ? String(classes[i]) : String(i));
  const cells: Cell[] = [];
  matrix.forEach((r, i) => {
    if (!Array.isArray(r)) return;
    r.forEach((v, j) => {
      if (isNum(v)) cells.push({ row: name(i), col: name(j), value: v });
    });
  });
  return cells;
}

/** The status of each attacked sample, counted ("fooled", "censored", …). */
export function statusCounts(doc: RobustnessDoc | null): { status: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const s of doc?.status ?? []) counts.set(s, (counts.get(s) ?? 0) + 1);
  return [...counts.entries()].map(([status, count]) => ({ status, count }));
}

export function finiteValues(values: readonly (number | null)[] | undefined): number[] {
  return (values ?? []).filter(isNum);
}

export function robustCurve(doc: RobustnessDoc | null): { eps: number; accuracy: number }[] {
  const eps = doc?.curve?.eps ?? [];
  const acc = doc?.curve?.robust_accuracy ?? [];
  const out: { eps: number; accuracy: number }[] = [];
  for (let i = 0; i < Math.min(eps.length, acc.length); i++) {
    const e = eps[i];
    const a = acc[i];
    if (isNum(e) && isNum(a)) out.push({ eps: e, accuracy: a });
  }
  return out;
}

/** Only PNG/JPEG/GIF/WebP data URLs are shown as images; anything else is dropped. */
export function safeImageUrl(u: unknown): string | null {
  return typeof u === "string" && /^data:image\/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]+$/.test(u) ? u : null;
}

export interface CurvePoint {
  metric: string;
  split: string;
  step: number;
  value: number;
}

/** Curves grouped by metric, e.g. {loss: [...], accuracy: [...]}; loss first. */
export function curvesByMetric(series: readonly CurveSeries[] | undefined): Map<string, CurvePoint[]> {
  const out = new Map<string, CurvePoint[]>();
  for (const s of series ?? []) {
    const metric = s.metric || s.tag;
    const pts = out.get(metric) ?? [];
    for (const p of s.points ?? []) {
      if (Array.isArray(p) && isNum(p[0]) && isNum(p[1])) pts.push({ metric, split: s.split || "train", step: p[0], value: p[1] });
    }
    out.set(metric, pts);
  }
  const rank = (m: string) => (m === "loss" ? 0 : m === "accuracy" ? 1 : 2);
  // a constant learning rate (Keras logs it every epoch) is not worth a chart
  const flat = (m: string, p: CurvePoint[]) => rank(m) === 2 && p.every((q) => q.value === p[0].value);
  return new Map([...out.entries()].filter(([m, p]) => p.length > 0 && !flat(m, p)).sort((a, b) => rank(a[0]) - rank(b[0]) || (a[0] < b[0] ? -1 : 1)));
}

/** One marker per step (the most severe finding there), with every id that fired. */
export function markersByStep(markers: readonly Marker[] | undefined): { step: number; severity: Marker["severity"]; ids: string[] }[] {
  const by = new Map<number, { step: number; severity: Marker["severity"]; ids: string[] }>();
  for (const m of markers ?? []) {
    if (!isNum(m.step)) continue;
    const cur = by.get(m.step);
    if (!cur) by.set(m.step, { step: m.step, severity: m.severity, ids: [m.id] });
    else {
      cur.ids.push(m.id);
      if (severityRank(m.severity) < severityRank(cur.severity)) cur.severity = m.severity;
    }
  }
  return [...by.values()].sort((a, b) => a.step - b.step);
}

export interface ScatterPoint {
  run: string;
  architecture: string;
  bits: number;
  eps: number;
  level: number | null;
}

/** Robustness against capacity, one point per run, ordered along each architecture's line. */
export function scatterPoints(rows: readonly CompareRow[]): ScatterPoint[] {
  return rows
    .filter((r) => isNum(r.model_bits) && r.model_bits > 0 && isNum(r.median_eps))
    .map((r) => ({
      run: r.run,
      architecture: r.architecture ?? "(no architecture)",
      bits: r.model_bits as number,
      eps: r.median_eps as number,
      level: isNum(r.capacity_level) ? r.capacity_level : null,
    }))
    .sort((a, b) => (a.architecture < b.architecture ? -1 : a.architecture > b.architecture ? 1 : a.bits - b.bits));
}

/** Panels a report can show, in page order, with the record kinds that feed each. */
export const PANELS: { id: string; title: string }[] = [
  { id: "training", title: "Loss & accuracy" },
  { id: "capacity", title: "Capacity vs. complexity" },
  { id: "layers", title: "Per-layer capacity" },
  { id: "balance", title: "Class balance" },
  { id: "csg", title: "Class overlap (CSG)" },
  { id: "robustness", title: "Robustness" },
  { id: "checks", title: "Set-up checks" },
];

export function panelTitle(id: string | null | undefined): string | null {
  return PANELS.find((p) => p.id === id)?.title ?? null;
}

export interface ProjectionPoint {
  x: number;
  y: number;
  cls: string;
  synthetic: boolean;
}

/** [x, y, class_index(, is_synthetic)] rows → named points (class names when known). */
export function projectionPoints(projection: { points?: unknown } | null | undefined, classes: string[] | undefined, max = 2000): ProjectionPoint[] {
  const rows = Array.isArray(projection?.points) ? (projection!.points as unknown[]) : [];
  const out: ProjectionPoint[] = [];
  for (const r of rows) {
    if (!Array.isArray(r) || !isNum(r[0]) || !isNum(r[1])) continue;
    const ci = isNum(r[2]) ? r[2] : -1;
    out.push({ x: r[0], y: r[1], cls: classes?.[ci] !== undefined ? String(classes[ci]) : String(ci), synthetic: Boolean(r[3]) });
    if (out.length >= max) break;
  }
  return out;
}
