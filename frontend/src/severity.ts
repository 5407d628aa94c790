// Severity: order, shape and colour. Shape carries the meaning, colour repeats it
// (Okabe–Ito palette, distinguishable with the common colour-vision deficiencies).
import type { Counts, Finding, Severity } from "./types";

export const SEVERITIES: readonly Severity[] = ["error", "warning", "info", "ok"];

export const SYMBOL: Record<Severity, string> = {
  error: "●",
  warning: "▲",
  info: "◆",
  ok: "✓",
};

/** Symbol of a run with no findings at all. */
export const NO_FINDINGS_SYMBOL = "○";

export const COLOR: Record<Severity, string> = {
  error: "#D55E00",
  warning: "#E69F00",
  info: "#0072B2",
  ok: "#009E73",
};

const PLURAL: Record<Severity, [string, string]> = {
  error: ["error", "errors"],
  warning: ["warning", "warnings"],
  info: ["note", "notes"],
  ok: ["passed", "passed"],
};

/** 0 for error … 3 for ok; unknown or missing severities sort last (4). */
export function severityRank(s: string | null | undefined): number {
  const i = SEVERITIES.indexOf(s as Severity);
  return i < 0 ? SEVERITIES.length : i;
}

export function isSeverity(s: unknown): s is Severity {
  return typeof s === "string" && (SEVERITIES as readonly string[]).includes(s);
}

/** "2 errors", "1 warning", "3 passed". */
export function countLabel(sev: Severity, n: number): string {
  return `${n} ${PLURAL[sev][n === 1 ? 0 : 1]}`;
}

/** Findings most severe first; ties keep their route order (stable sort). */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort((a, b) => severityRank(a.severity) - severityRank(b.severity));
}

export function emptyCounts(): Counts {
  return { error: 0, warning: 0, info: 0, ok: 0 };
}

export function countFindings(findings: readonly Finding[]): Counts {
  const c = emptyCounts();
  for (const f of findings) if (isSeverity(f.severity)) c[f.severity] += 1;
  return c;
}

export function worstOf(findings: readonly Finding[]): Severity | null {
  let best: Severity | null = null;
  for (const f of findings) {
    if (isSeverity(f.severity) && severityRank(f.severity) < severityRank(best)) best = f.severity;
  }
  return best;
}
