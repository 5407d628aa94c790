// The tab's state in the iframe's URL hash, so a link or a reload reopens it:
//   #view=report&run=exp1%2Fdebugger&q=sweep&sev=error&sort=median_eps&desc=1
export type View = "report" | "compare";
export type SevFilter = "all" | "error" | "warning" | "clean";

export interface HashState {
  view: View;
  run: string | null;
  q: string;
  sev: SevFilter;
  sort: string | null;
  desc: boolean;
}

export const DEFAULT_STATE: HashState = {
  view: "report",
  run: null,
  q: "",
  sev: "all",
  sort: null,
  desc: false,
};

const SEV_FILTERS: readonly SevFilter[] = ["all", "error", "warning", "clean"];

export function parseHash(hash: string): HashState {
  const p = new URLSearchParams(hash.replace(/^#/, ""));
  const view = p.get("view") === "compare" ? "compare" : "report";
  const sev = p.get("sev") as SevFilter;
  return {
    view,
    run: p.get("run") || null,
    q: p.get("q") ?? "",
    sev: SEV_FILTERS.includes(sev) ? sev : "all",
    sort: p.get("sort") || null,
    desc: p.get("desc") === "1",
  };
}

/** The hash for a state; defaults are left out so links stay short. */
export function formatHash(s: HashState): string {
  const p = new URLSearchParams();
  if (s.view !== "report") p.set("view", s.view);
  if (s.run) p.set("run", s.run);
  if (s.q) p.set("q", s.q);
  if (s.sev !== "all") p.set("sev", s.sev);
  if (s.sort) p.set("sort", s.sort);
  if (s.desc) p.set("desc", "1");
  const text = p.toString();
  return text ? `#${text}` : "";
}

export function withState(s: HashState, patch: Partial<HashState>): HashState {
  return { ...s, ...patch };
}

/**
 * An href for a state. TensorBoard's plugin page has <base href="plugin/NAME/">,
 * so a bare "#…" would resolve against the base and load another document;
 * the current path and query keep it a same-document fragment link.
 */
export function hrefFor(s: HashState, loc: { pathname: string; search: string } = window.location): string {
  return `${loc.pathname}${loc.search}${formatHash(s) || "#"}`;
}
