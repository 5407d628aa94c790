// Filtering and sorting of runs (the sidebar) and compare rows (the table).
import type { CompareRow, Counts, RunSummary, Severity } from "./types";
import type { SevFilter } from "./hashState";
import { severityRank } from "./severity";

/** Case-insensitive substring match on the run name; blank terms match all. */
export function matchesText(run: string, q: string): boolean {
  const terms = q.toLowerCase().split(/\s+/).filter(Boolean);
  const name = run.toLowerCase();
  return terms.every((t) => name.includes(t));
}

export function matchesSeverity(worst: Severity | null, sev: SevFilter): boolean {
  switch (sev) {
    case "error":
      return worst === "error";
    case "warning":
      return worst === "error" || worst === "warning";
    case "clean":
      return worst !== "error" && worst !== "warning";
    default:
      return true;
  }
}

export function filterRuns<T extends { run: string; worst: Severity | null }>(
  runs: readonly T[], q: string, sev: SevFilter,
): T[] {
  return runs.filter((r) => matchesText(r.run, q) && matchesSeverity(r.worst, sev));
}

function byCounts(a: Counts | undefined, b: Counts | undefined): number {
  return (b?.error ?? 0) - (a?.error ?? 0) || (b?.warning ?? 0) - (a?.warning ?? 0);
}

/** Sickest runs first (worst severity, then more errors, more warnings), then by name. */
export function sortRunsBySeverity(runs: readonly RunSummary[]): RunSummary[] {
  return [...runs].sort(
    (a, b) => severityRank(a.worst) - severityRank(b.worst)
      || byCounts(a.counts, b.counts)
      || naturalCompare(a.run, b.run),
  );
}

const COLLATOR = new Intl.Collator("en", { numeric: true, sensitivity: "base" });

/** "run_2" before "run_10". */
export function naturalCompare(a: string, b: string): number {
  return COLLATOR.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

export interface Column {
  key: string;
  label: string;
  title: string;
  kind: "text" | "int" | "num" | "bits" | "ratio" | "eps" | "px" | "pct" | "count" | "verdict";
  get: (r: CompareRow) => string | number | null;
}

const n = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

export const COMPARE_COLUMNS: Column[] = [
  { key: "run", label: "Run", title: "Debugger run", kind: "text", get: (r) => r.run },
  { key: "worst", label: "Worst", title: "Most severe finding", kind: "count", get: (r) => severityRank(r.worst) },
  { key: "verdict", label: "Verdict", title: "Model capacity against the dataset's complexity", kind: "verdict", get: (r) => r.verdict ?? null },
  { key: "model_bits", label: "Model bits", title: "Model capacity (bits)", kind: "bits", get: (r) => n(r.model_bits) },
  { key: "expected_bits", label: "Data bits", title: "Expected bits the dataset needs", kind: "bits", get: (r) => n(r.expected_bits) },
  { key: "max_bits", label: "Max bits", title: "Bits above which the model can memorise the dataset", kind: "bits", get: (r) => n(r.max_bits) },
  { key: "ratio", label: "Ratio", title: "Model bits / expected bits", kind: "ratio", get: (r) => n(r.ratio) },
  { key: "csg", label: "CSG", title: "Cumulative spectral gradient (class overlap; higher = harder)", kind: "num", get: (r) => n(r.csg) },
  { key: "imbalance_ratio", label: "Imbalance", title: "Largest / smallest class count", kind: "ratio", get: (r) => n(r.imbalance_ratio) },
  { key: "median_eps", label: "Median ε", title: "Median minimal adversarial perturbation", kind: "eps", get: (r) => n(r.median_eps) },
  { key: "median_pixels", label: "Median px", title: "Median pixels changed by the adversarial attack", kind: "px", get: (r) => n(r.median_pixels) },
  { key: "clean_accuracy", label: "Clean acc.", title: "Accuracy on the robustness sample before attack", kind: "pct", get: (r) => n(r.clean_accuracy) },
  { key: "val_accuracy", label: "Val acc.", title: "Last validation accuracy", kind: "pct", get: (r) => n(r.val_accuracy) },
  { key: "val_loss", label: "Val loss", title: "Last validation loss", kind: "num", get: (r) => n(r.val_loss) },
  { key: "errors", label: "Errors", title: "Error findings", kind: "int", get: (r) => r.counts?.error ?? 0 },
  { key: "warnings", label: "Warnings", title: "Warning findings", kind: "int", get: (r) => r.counts?.warning ?? 0 },
];

export function columnByKey(key: string | null): Column | undefined {
  return COMPARE_COLUMNS.find((c) => c.key === key);
}

/**
 * Rows sorted by a column; missing values go last in either direction, ties by run.
 * Unknown keys give the severity order.
 */
export function sortRows(rows: readonly CompareRow[], key: string | null, desc: boolean): CompareRow[] {
  const col = columnByKey(key) ?? columnByKey("worst")!;
  const sign = desc ? -1 : 1;
  return [...rows].sort((a, b) => {
    const va = col.get(a);
    const vb = col.get(b);
    if (va === null && vb === null) return naturalCompare(a.run, b.run);
    if (va === null) return 1;
    if (vb === null) return -1;
    const c = typeof va === "number" && typeof vb === "number"
      ? va - vb
      : naturalCompare(String(va), String(vb));
    return sign * c || naturalCompare(a.run, b.run);
  });
}
