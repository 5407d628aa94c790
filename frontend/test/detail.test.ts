// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { renderReport } from "../src/report";
import type { Report } from "../src/types";
import flagged from "./fixtures/report_flagged.json";

beforeEach(() => {
  vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockImplementation(() => ({ fillRect() {}, fillStyle: "" }) as never);
  vi.spyOn(HTMLCanvasElement.prototype, "toDataURL").mockImplementation(() => "data:image/png;base64,");
});
afterEach(() => vi.restoreAllMocks());

const TRACE = 'Traceback (most recent call last):\n  File "/home/me/train.py", line 12, in <module>\n<b id=injected>x</b>';

function withFailure(evidence: Record<string, unknown>): Report {
  const report = structuredClone(flagged) as unknown as Report;
  report.findings = [...report.findings, {
    id: "diagnostic.failed", severity: "warning", title: "Diagnostic 'dead_units' failed: ValueError: no ReLU",
    evidence, advice: "Training went on without this check.", step: 2, panel: "checks",
  }];
  return report;
}

const card = (el: HTMLElement) => el.querySelector<HTMLElement>('[data-finding-id="diagnostic.failed"]')!;

describe("a failed diagnostic's detail", () => {
  it("is folded behind a closed Details toggle, never inline in the evidence", () => {
    const el = card(renderReport(withFailure({ diagnostic: "dead_units", error: "ValueError: no ReLU", epoch: 2, detail: TRACE }), { summary: null, width: 800, goToPanel: vi.fn() }));
    const details = el.querySelectorAll<HTMLDetailsElement>("details.nnd-detail");
    expect(details).toHaveLength(1);
    expect(details[0].open).toBe(false);
    expect(details[0].querySelector("summary")!.textContent).toBe("Details");
    expect(details[0].querySelector("pre code")!.textContent).toBe(TRACE);
    expect(el.querySelector("#injected")).toBeNull(); // text, not HTML
    const dl = el.querySelector(".nnd-evidence")!;
    expect(dl.textContent).toContain("ValueError: no ReLU");
    expect(dl.textContent).not.toContain("Traceback");
    expect([...dl.querySelectorAll("dt")].map((dt) => dt.textContent)).toEqual(["diagnostic", "error", "epoch"]);
  });

  it("adds no toggle when there is no detail (or it is not text)", () => {
    for (const detail of [undefined, "", 3, ["a"]]) {
      const el = card(renderReport(withFailure({ diagnostic: "dead_units", error: "ValueError: no ReLU", detail }), { summary: null, width: 800, goToPanel: vi.fn() }));
      expect(el.querySelector("details")).toBeNull();
    }
  });
});
