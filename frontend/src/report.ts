// The run report: findings first (what is wrong, the numbers, what to do), then
// the panels holding the evidence.
import { h, type Child } from "./dom";
import {
  allOf, balanceRows, capacityRows, capacityVerdict, curvesByMetric, finiteValues, heatmapCells,
  latest, layerRows, markersByStep, PANELS, panelTitle, projectionPoints, robustCurve, safeImageUrl,
  statusCounts,
} from "./chartData";
import {
  balanceChart, capacityChart, chart, curveChart, heatmapChart, histogramChart, layersChart,
  projectionChart, robustCurveChart,
} from "./charts";
import { fmtAgo, fmtBits, fmtEvidence, fmtInt, fmtNum, fmtPct, fmtRatio, humanizeKey, isNum, MISSING } from "./format";
import { COLOR, countFindings, countLabel, SEVERITIES, sortFindings, SYMBOL } from "./severity";
import type {
  DatasetDoc, Finding, ModelDoc, Report, ResamplingDoc, RobustnessDoc, RunSummary, Severity,
} from "./types";
import { CALLBACK_LINE } from "./states";

export function sevBadge(sev: Severity | null, extraClass = ""): HTMLElement {
  const label = sev ?? "no findings";
  return h("span", { class: `nnd-sev nnd-sev-${sev ?? "none"} ${extraClass}`.trim(), title: label, attrs: { "aria-label": label, role: "img" } },
    sev ? SYMBOL[sev] : "○");
}

export function countsLine(counts: Record<Severity, number>, only: Severity[] = ["error", "warning", "info", "ok"]): HTMLElement {
  const parts = only.filter((s) => counts[s] > 0).map((s) => h("span", { class: `nnd-count nnd-count-${s}` }, sevBadge(s), " ", countLabel(s, counts[s])));
  return h("span", { class: "nnd-counts" }, parts.length ? parts : h("span", { class: "nnd-muted" }, "no findings"));
}

function codeBlock(text: string): HTMLElement {
  return h("pre", { class: "nnd-code" }, h("code", null, text));
}

/** The evidence key of a failure's traceback or long text (diagnosis/rules/meta.py DETAIL_KEY):
 * folded behind a "Details" toggle, never inline. */
export const DETAIL_KEY = "detail";

function detailToggle(detail: unknown): HTMLElement | null {
  if (typeof detail !== "string" || !detail.trim()) return null;
  return h("details", { class: "nnd-detail" }, h("summary", null, "Details"), codeBlock(detail));
}

function findingCard(f: Finding, panels: Set<string>, goToPanel: (id: string) => void): HTMLElement {
  const sev = SEVERITIES.includes(f.severity) ? f.severity : "info";
  const evidence = Object.entries(f.evidence ?? {}).filter(([k]) => k !== DETAIL_KEY);
  const panel = f.panel && panels.has(f.panel) ? f.panel : null;
  return h("article", { class: `nnd-card nnd-card-${sev}`, dataset: { findingId: String(f.id) }, attrs: { "aria-label": `${sev}: ${f.title}` } },
    h("header", { class: "nnd-card-head" },
      sevBadge(sev, "nnd-sev-big"),
      h("h3", { class: "nnd-card-title" }, String(f.title ?? "")),
      isNum(f.step) ? h("span", { class: "nnd-chip", title: "step (epoch) where this fired" }, `epoch ${fmtInt(f.step)}`) : null,
      h("code", { class: "nnd-chip nnd-id", title: "finding id" }, String(f.id))),
    evidence.length
      ? h("dl", { class: "nnd-evidence" }, evidence.map(([k, v]) => h("div", null, h("dt", null, humanizeKey(k)), h("dd", null, fmtEvidence(k, v)))))
      : null,
    detailToggle(f.evidence?.[DETAIL_KEY]),
    f.advice ? h("p", { class: "nnd-advice" }, h("span", { class: "nnd-arrow", attrs: { "aria-hidden": "true" } }, "→ "), String(f.advice)) : null,
    panel
      ? h("button", { class: "nnd-link", type: "button", on: { click: () => goToPanel(panel) } }, `Evidence: ${panelTitle(panel)} ↓`)
      : null);
}

function findingsSection(findings: Finding[], panels: Set<string>, goToPanel: (id: string) => void): HTMLElement {
  const sorted = sortFindings(findings);
  const problems = sorted.filter((f) => f.severity !== "ok");
  const passed = sorted.filter((f) => f.severity === "ok");
  return h("section", { class: "nnd-findings", attrs: { "aria-label": "Findings" } },
    problems.length
      ? problems.map((f) => findingCard(f, panels, goToPanel))
      : h("div", { class: "nnd-card nnd-card-ok" },
        h("header", { class: "nnd-card-head" }, sevBadge("ok", "nnd-sev-big"), h("h3", { class: "nnd-card-title" }, findings.length ? "No problems found" : "No findings yet")),
        h("p", { class: "nnd-advice" }, findings.length
          ? "Every check that could run on this run's records passed."
          : "The diagnosis needs records: the callback writes them at train begin and after each epoch.")),
    passed.length
      ? h("details", { class: "nnd-passed" },
        h("summary", null, sevBadge("ok"), ` ${countLabel("ok", passed.length)} — show`),
        h("ul", null, passed.map((f) => h("li", null, String(f.title), " ", h("code", { class: "nnd-chip nnd-id" }, String(f.id))))))
      : null);
}

function panel(id: string, subtitle: Child, ...body: Child[]): HTMLElement {
  return h("section", { class: "nnd-panel", id: `panel-${id}`, dataset: { panel: id } },
    h("h2", null, panelTitle(id) ?? id, subtitle ? h("span", { class: "nnd-panel-sub" }, subtitle) : null),
    ...body);
}

function facts(items: [string, Child][]): HTMLElement {
  return h("dl", { class: "nnd-facts" }, items.map(([k, v]) => [h("dt", null, k), h("dd", null, v)]));
}

const VERDICT_TEXT = {
  too_small: "too small: the model cannot hold what the data needs",
  matched: "matched: enough capacity, not enough to memorise",
  oversized: "oversized: the model can memorise the training set",
};

function capacityPanel(report: Report, width: number): HTMLElement | null {
  const dataset = latest<DatasetDoc>(report, "dataset");
  const model = latest<ModelDoc>(report, "model");
  const rows = capacityRows(dataset, model);
  if (rows.length === 0) return null;
  const { verdict, ratio } = capacityVerdict(report.findings ?? [], dataset, model);
  const c = dataset?.complexity;
  return panel("capacity", verdict ? h("span", { class: `nnd-verdict nnd-verdict-${verdict}` }, VERDICT_TEXT[verdict]) : null,
    chart("capacity", () => capacityChart(rows, verdict, width)),
    facts([
      ["model", fmtBits(model?.bits)],
      ["data needs", fmtBits(c?.expected_bits)],
      ["memorises above", fmtBits(c?.max_bits)],
      ["model / needs", fmtRatio(ratio)],
      ["dataset", dataset ? `${String(dataset.name ?? "")} · ${fmtInt(dataset.n_samples)} samples × ${fmtInt(dataset.dim)} dims · ${fmtInt(dataset.n_classes)} classes` : MISSING],
    ]));
}

function layersPanel(report: Report, width: number): HTMLElement | null {
  const model = latest<ModelDoc>(report, "model");
  const rows = layerRows(model);
  if (rows.length === 0) return null;
  return panel("layers", `${fmtInt(model?.n_params)} parameters · ${fmtBits(model?.bits)} in ${fmtInt(rows.length)} layers`,
    chart("layers", () => layersChart(rows, width)));
}

function balancePanel(report: Report, width: number): HTMLElement | null {
  const { rows, stages, source } = balanceRows(report);
  if (rows.length === 0) return null;
  const ds = latest<DatasetDoc>(report, "dataset");
  const b = ds?.balance;
  const res = latest<ResamplingDoc>(report, "resampling");
  const resClasses = res?.before ? Object.keys(res.before) : ds?.classes;
  const resPoints = projectionPoints(res?.projection, resClasses);
  return panel("balance", source,
    h("div", { class: "nnd-grid2" },
      chart("balance", () => balanceChart(rows, stages, resPoints.length ? Math.floor((width - 16) / 2) : width)),
      resPoints.length
        ? chart("resampling-projection", () => projectionChart(resPoints, Math.floor((width - 16) / 2), res?.projection?.method ?? "pca"))
        : null),
    b ? facts([
      ["imbalance ratio", fmtRatio(b.imbalance_ratio)],
      ["minority fraction", fmtPct(b.minority_fraction)],
      ["normalised entropy", fmtNum(b.normalized_entropy)],
      ["rare classes", b.rare_classes && b.rare_classes.length ? b.rare_classes.join(", ") : "none"],
    ]) : null);
}

function csgPanel(report: Report, width: number): HTMLElement | null {
  const ds = latest<DatasetDoc>(report, "dataset");
  const csg = ds?.csg;
  if (!csg || !Array.isArray(csg.similarity)) return null;
  const classes = csg.similarity.map((_, i) => String(ds?.classes?.[i] ?? i));
  const cells = heatmapCells(csg.similarity, classes);
  if (cells.length === 0) return null;
  const points = projectionPoints(ds?.projection, ds?.classes);
  const half = Math.floor((width - 16) / 2);
  return panel("csg", `CSG ${fmtNum(csg.score)} · ${String(csg.embedding ?? "raw")} embedding, k = ${fmtInt(csg.k)}`,
    h("p", { class: "nnd-muted" }, "Similarity between the classes' samples: bright off-diagonal cells are classes the model will confuse."
      + (points.length ? " Beside it, the data projected on two axes." : "")),
    h("div", { class: "nnd-grid2" },
      chart("csg", () => heatmapChart(cells, classes, points.length ? half : width)),
      points.length ? chart("projection", () => projectionChart(points, half, ds?.projection?.method ?? "pca")) : null));
}

function robustnessPanel(report: Report, width: number): HTMLElement | null {
  const doc = latest<RobustnessDoc>(report, "robustness");
  if (!doc) return null;
  const half = Math.max(300, Math.floor((width - 16) / 2));
  const eps = finiteValues(doc.min_eps);
  const px = finiteValues(doc.pixels);
  const curve = robustCurve(doc);
  const med = isNum(doc.median_eps) ? doc.median_eps : null;
  const medPx = isNum(doc.median_pixels) ? doc.median_pixels : null;
  const examples = (doc.examples ?? []).slice(0, 8);
  return panel("robustness", `L${String(doc.norm ?? "∞") === "inf" ? "∞" : String(doc.norm)} · ${fmtInt(doc.n)} samples · ε ≤ ${fmtNum(doc.eps_max)}`,
    facts([
      ["median minimal ε", fmtNum(doc.median_eps)],
      ["clean accuracy", fmtPct(doc.clean_accuracy)],
      ["not fooled within ε max", fmtPct(doc.censored_fraction)],
      ["misclassified before attack", fmtPct(doc.misclassified_fraction)],
      ["median pixels changed", medPx === null ? MISSING : `${fmtInt(medPx)} px of ${fmtInt(doc.input_size)} (${fmtPct(doc.pixel_fraction)})`],
      ["status", statusCounts(doc).map((s) => `${s.status} ${fmtInt(s.count)}`).join(" · ") || MISSING],
    ]),
    h("div", { class: "nnd-grid2" },
      eps.length ? chart("min-eps", () => histogramChart(eps, "minimal ε per sample", med, half, (d) => fmtNum(d))) : h("p", { class: "nnd-muted" }, "No sample was fooled within ε max."),
      curve.length ? chart("robust-accuracy", () => robustCurveChart(curve, half)) : null,
      px.length ? chart("pixels", () => histogramChart(px, "pixels changed per sample", medPx, half, (d) => fmtInt(d))) : null),
    examples.length
      ? h("div", { class: "nnd-examples" }, examples.map((ex) => {
        const imgs: [string, unknown][] = [["original", ex.original], ["adversarial", ex.adversarial], ["difference", ex.difference]];
        return h("figure", { class: "nnd-example" },
          h("div", { class: "nnd-example-imgs" }, imgs.map(([label, url]) => {
            const safe = safeImageUrl(url);
            return safe ? h("img", { attrs: { src: safe, alt: `${label}`, title: label, width: "64", height: "64" } }) : null;
          })),
          h("figcaption", null, `${String(ex.label)} → ${String(ex.adversarial_label)} at ε ${fmtNum(ex.eps)}`));
      }))
      : null);
}

function curvesPanel(report: Report, width: number): HTMLElement | null {
  const by = curvesByMetric(report.curves?.series);
  if (by.size === 0) return null;
  const markers = markersByStep(report.curves?.markers);
  const half = by.size > 1 ? Math.max(300, Math.floor((width - 16) / 2)) : width;
  const source = [...new Set((report.curves?.series ?? []).map((s) => s.run))].join(", ");
  return panel("training", markers.length ? `markers: epochs where findings fired · from ${source}` : `from ${source}`,
    h("div", { class: "nnd-grid2" }, [...by.entries()].slice(0, 4).map(([metric, pts]) => chart(`curve-${metric}`, () => curveChart(metric, pts, markers, half)))),
    markers.length
      ? h("ul", { class: "nnd-markers" }, markers.map((m) => h("li", null, h("span", { class: `nnd-sev nnd-sev-${m.severity}` }, SYMBOL[m.severity]), ` epoch ${m.step}: ${m.ids.join(", ")}`)))
      : null);
}

function checksPanel(report: Report): HTMLElement | null {
  const checks = latest<Record<string, unknown>>(report, "checks");
  const errors = allOf<Record<string, unknown>>(report, "diagnostic_error");
  if (!checks && errors.length === 0) return null;
  return panel("checks", null,
    checks ? facts(Object.entries(checks).filter(([k]) => k !== "kind" && k !== "version").map(([k, v]) => [humanizeKey(k), fmtEvidence(k, v)])) : null,
    errors.length
      ? h("div", null, h("h3", null, "Diagnostics that failed (training went on)"),
        h("ul", null, errors.map((e) => h("li", null, `${String(e.value.diagnostic ?? "?")} at epoch ${String(e.value.epoch ?? e.step)}: ${String(e.value.error ?? "")}`))))
      : null);
}

const MISSING_HINTS: Record<string, string> = {
  training: "no loss curves: train with keras.callbacks.TensorBoard(log_dir) beside DebuggerCallback(log_dir)",
  capacity: "no dataset/model record: DebuggerCallback writes both at train begin; or call tb_nndebug.summary.dataset(...) and summary.model(...)",
  layers: "no model record with layers: tb_nndebug.summary.model(name, model)",
  balance: "no class counts: tb_nndebug.summary.dataset(...) or summary.balance(name, y)",
  csg: "no class-overlap matrix: the dataset record has no CSG (summary.dataset computes it)",
  robustness: "no robustness record: tb_nndebug.summary.robustness(name, tb_nndebug.robustness(model, X, y))",
  checks: "no set-up checks: DebuggerCallback writes them at train begin",
};

export interface ReportContext {
  summary: RunSummary | null;
  width: number;
  goToPanel: (id: string) => void;
}

export function renderReport(report: Report, ctx: ReportContext): HTMLElement {
  const width = Math.max(320, Math.min(1100, ctx.width));
  const builders: Record<string, () => HTMLElement | null> = {
    training: () => curvesPanel(report, width),
    capacity: () => capacityPanel(report, width),
    layers: () => layersPanel(report, width),
    balance: () => balancePanel(report, width),
    csg: () => csgPanel(report, width),
    robustness: () => robustnessPanel(report, width),
    checks: () => checksPanel(report),
  };
  const built: HTMLElement[] = [];
  const missing: string[] = [];
  for (const p of PANELS) {
    let el: HTMLElement | null = null;
    try {
      el = builders[p.id]();
    } catch (e) {
      el = panel(p.id, null, h("p", { class: "nnd-muted" }, `This panel could not be drawn: ${(e as Error).message}`));
    }
    if (el) built.push(el);
    else missing.push(p.id);
  }
  const present = new Set(built.map((el) => el.dataset.panel ?? ""));
  const findings = Array.isArray(report.findings) ? report.findings : [];
  const counts = countFindings(findings);
  const info = latest<Record<string, unknown>>(report, "run_info");
  const hasRecords = Object.values(report.records ?? {}).some((v) => v.length > 0);
  return h("div", { class: "nnd-report", dataset: { run: report.run } },
    h("header", { class: "nnd-report-head" },
      h("h1", { class: "nnd-run-title" }, report.run),
      h("div", { class: "nnd-subline" },
        countsLine(counts, ["error", "warning", "info"]),
        h("span", { class: "nnd-muted" }, [
          isNum(report.last_step) ? `step ${fmtInt(report.last_step)}` : null,
          ctx.summary?.last_wall_time ? ` · ${fmtAgo(ctx.summary.last_wall_time)}` : null,
          report.group ? ` · group ${report.group}` : null,
        ])),
      info ? h("div", { class: "nnd-runinfo" }, Object.entries(info).filter(([k]) => k !== "kind" && k !== "version")
        .map(([k, v]) => h("span", { class: "nnd-chip" }, `${humanizeKey(k)}: ${fmtEvidence(k, v)}`))) : null,
      (report.warnings ?? []).length
        ? h("ul", { class: "nnd-warnings" }, (report.warnings ?? []).map((w) => h("li", null, String(w))))
        : null),
    hasRecords ? null : h("div", { class: "nnd-empty" },
      h("p", null, "No debugger records in this run yet. Add the callback to model.fit:"), codeBlock(CALLBACK_LINE)),
    findingsSection(findings, present, ctx.goToPanel),
    h("div", { class: "nnd-panels" }, built),
    missing.length
      ? h("details", { class: "nnd-missing" }, h("summary", null, `Not recorded in this run: ${missing.map((m) => panelTitle(m)).join(", ")}`),
        h("ul", null, missing.map((m) => h("li", null, h("strong", null, `${panelTitle(m)}: `), MISSING_HINTS[m] ?? ""))))
      : null,
  );
}

export { COLOR };
