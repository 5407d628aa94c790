// The sidebar: every debugger run with its worst severity, filtered and sickest first.
import { h } from "./dom";
import { hrefFor, type HashState } from "./hashState";
import { filterRuns, sortRunsBySeverity } from "./select";
import { countLabel, SYMBOL } from "./severity";
import { sevBadge } from "./report";
import type { RunSummary } from "./types";

export function splitRunName(run: string): { head: string; leaf: string } {
  const i = run.lastIndexOf("/");
  return i < 0 ? { head: run, leaf: "" } : { head: run.slice(0, i), leaf: run.slice(i + 1) };
}

export function visibleRuns(runs: readonly RunSummary[], state: HashState): RunSummary[] {
  return sortRunsBySeverity(filterRuns(runs, state.q, state.sev));
}

export function runItem(r: RunSummary, state: HashState): HTMLElement {
  const { head, leaf } = splitRunName(r.run);
  const selected = r.run === state.run;
  const c = r.counts ?? { error: 0, warning: 0, info: 0, ok: 0 };
  const label = [c.error ? countLabel("error", c.error) : "", c.warning ? countLabel("warning", c.warning) : ""].filter(Boolean).join(", ");
  return h("li", null,
    h("a", {
      class: `nnd-run${selected ? " nnd-run-selected" : ""}`,
      href: hrefFor({ ...state, view: "report", run: r.run }),
      title: `${r.run}${label ? ` — ${label}` : ""}`,
      dataset: { run: r.run },
      attrs: selected ? { "aria-current": "page" } : {},
    },
    sevBadge(r.worst),
    h("span", { class: "nnd-run-name" }, head, leaf ? h("span", { class: "nnd-run-leaf" }, `/${leaf}`) : null),
    h("span", { class: "nnd-run-counts" },
      c.error ? h("span", { class: "nnd-mini nnd-count-error" }, `${c.error}${SYMBOL.error}`) : null,
      c.warning ? h("span", { class: "nnd-mini nnd-count-warning" }, `${c.warning}${SYMBOL.warning}`) : null)));
}
