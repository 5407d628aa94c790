// Compare: runs × key numbers (sortable), and robustness against capacity.
import { h } from "./dom";
import { scatterPoints } from "./chartData";
import { chart, scatterChart } from "./charts";
import { fmtBits, fmtInt, fmtNum, fmtPct, fmtPixels, fmtRatio, MISSING } from "./format";
import { hrefFor, type HashState } from "./hashState";
import { COMPARE_COLUMNS, sortRows, type Column } from "./select";
import { sevBadge } from "./report";
import type { CompareRow } from "./types";

function cellText(col: Column, r: CompareRow): string {
  const v = col.get(r);
  if (v === null || v === undefined) return MISSING;
  switch (col.kind) {
    case "bits": return fmtBits(v).replace(" bits", "");
    case "ratio": return fmtRatio(v);
    case "eps": return fmtNum(v);
    case "px": return fmtPixels(v);
    case "pct": return fmtPct(v);
    case "int": return fmtInt(v);
    case "verdict": return String(v).replace("_", " ");
    default: return typeof v === "number" ? fmtNum(v) : String(v);
  }
}

export function renderCompare(rows: CompareRow[], state: HashState, width: number, onSort: (key: string, desc: boolean) => void): HTMLElement {
  const sortKey = state.sort ?? "worst";
  const sorted = sortRows(rows, sortKey, state.desc);
  const head = h("tr", null, COMPARE_COLUMNS.map((col) => {
    const active = col.key === sortKey;
    const dir = active ? (state.desc ? "descending" : "ascending") : "none";
    return h("th", { attrs: { "aria-sort": dir, scope: "col" }, class: col.kind === "text" || col.kind === "verdict" ? "" : "nnd-num" },
      h("button", {
        type: "button", class: "nnd-sort", title: `${col.title} — click to sort`, dataset: { key: col.key },
        on: { click: () => onSort(col.key, active ? !state.desc : false) },
      }, col.label, h("span", { class: "nnd-sort-arrow", attrs: { "aria-hidden": "true" } }, active ? (state.desc ? " ▼" : " ▲") : "")));
  }));
  const body = sorted.map((r) => h("tr", { dataset: { run: r.run } }, COMPARE_COLUMNS.map((col) => {
    if (col.key === "run") {
      return h("td", { class: "nnd-run-cell" }, h("a", { href: hrefFor({ ...state, view: "report", run: r.run }) }, r.run));
    }
    if (col.key === "worst") return h("td", null, sevBadge(r.worst));
    return h("td", { class: `${col.kind === "text" || col.kind === "verdict" ? "" : "nnd-num"}${col.kind === "verdict" && r.verdict ? ` nnd-verdict-${r.verdict}` : ""}` }, cellText(col, r));
  })));
  const points = scatterPoints(rows);
  return h("div", { class: "nnd-compare" },
    h("header", { class: "nnd-report-head" },
      h("h1", { class: "nnd-run-title" }, "Compare runs"),
      h("p", { class: "nnd-muted" }, `${fmtInt(rows.length)} runs · the sidebar's filter applies · click a column to sort`)),
    rows.length === 0
      ? h("p", { class: "nnd-state" }, "No run matches the filter.")
      : h("div", { class: "nnd-table-wrap" }, h("table", { class: "nnd-table" }, h("thead", null, head), h("tbody", null, body))),
    h("section", { class: "nnd-panel", id: "panel-sweep" },
      h("h2", null, "Robustness vs. capacity", h("span", { class: "nnd-panel-sub" }, "median minimal ε against model bits; a line per architecture (run_info.architecture)")),
      points.length >= 1
        ? chart("scatter", () => scatterChart(points, Math.max(320, Math.min(1100, width))))
        : h("p", { class: "nnd-muted" }, "No run has both a model record and a robustness record. Write one with tb_nndebug.summary.robustness(name, tb_nndebug.robustness(model, X, y)), or run tb_nndebug.capacity_sweep(...).")));
}
