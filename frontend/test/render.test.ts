// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { renderReport } from "../src/report";
import { renderCompare } from "../src/compare";
import { DEFAULT_STATE } from "../src/hashState";
import type { CompareResponse, Report } from "../src/types";
import flagged from "./fixtures/report_flagged.json";
import xss from "./fixtures/report_xss.json";
import resampled from "./fixtures/report_resampled.json";
import compareJson from "./fixtures/compare.json";

// jsdom has no canvas; Plot paints its colour-ramp legend (the CSG heatmap's) on one.
beforeEach(() => {
  vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockImplementation(() => ({ fillRect() {}, fillStyle: "" }) as never);
  vi.spyOn(HTMLCanvasElement.prototype, "toDataURL").mockImplementation(() => "data:image/png;base64,");
});
afterEach(() => vi.restoreAllMocks());

const ctx = (goToPanel = vi.fn()) => ({ summary: null, width: 800, goToPanel });

describe("run report", () => {
  it("shows findings first, most severe first, with formatted evidence and the finding id", () => {
    const el = renderReport(flagged as unknown as Report, ctx());
    const cards = [...el.querySelectorAll(".nnd-card")];
    expect(cards.map((c) => (c as HTMLElement).dataset.findingId)).toEqual(["capacity.oversized", "robustness.fragile", "training.overfitting"]);
    const first = cards[0].textContent!;
    expect(first).toContain("137,216 bits");
    expect(first).toContain("17,820 bits");
    expect(first).toContain("capacity.oversized");
    expect(first).toContain("Shrink to about 2,000–5,000 bits");
    // the passed checks are folded away, not shown as cards
    expect(el.querySelector(".nnd-passed summary")!.textContent).toContain("3 passed");
    // findings come before the panels
    const all = [...el.querySelectorAll(".nnd-card, .nnd-panel")];
    expect(all[0].classList.contains("nnd-card")).toBe(true);
  });

  it("links each finding to the panel holding its evidence", () => {
    const go = vi.fn();
    const el = renderReport(flagged as unknown as Report, ctx(go));
    const btn = el.querySelector<HTMLButtonElement>('[data-finding-id="capacity.oversized"] .nnd-link')!;
    expect(btn.textContent).toContain("Capacity vs. complexity");
    btn.click();
    expect(go).toHaveBeenCalledWith("capacity");
  });

  it("draws every panel the records allow, each with a chart", () => {
    const el = renderReport(flagged as unknown as Report, ctx());
    const panels = [...el.querySelectorAll<HTMLElement>(".nnd-panel")].map((p) => p.dataset.panel);
    expect(panels).toEqual(["training", "capacity", "layers", "balance", "csg", "robustness", "checks"]);
    for (const chart of ["curve-loss", "curve-accuracy", "capacity", "layers", "balance", "csg", "projection", "min-eps", "robust-accuracy", "pixels"]) {
      const box = el.querySelector(`[data-chart="${chart}"]`);
      expect(box, chart).not.toBeNull();
      expect(box!.querySelector("svg"), `${chart}: ${box!.textContent}`).not.toBeNull();
    }
    // heatmap has the class names on its axes
    const csg = el.querySelector('[data-chart="csg"]')!;
    expect(csg.textContent).toContain("9");
    // the capacity chart is on a log scale with thousands separators
    expect(el.querySelector('[data-chart="capacity"]')!.textContent).toContain("137,216 bits");
    // findings' markers are drawn on the curves
    expect(el.querySelector('[data-chart="curve-loss"]')!.textContent).toContain("▲");
  });

  it("shows only image data URLs as adversarial thumbnails", () => {
    const el = renderReport(flagged as unknown as Report, ctx());
    const srcs = [...el.querySelectorAll(".nnd-examples img")].map((i) => i.getAttribute("src")!);
    expect(srcs.length).toBe(5);
    expect(srcs.every((s) => s.startsWith("data:image/png;base64,"))).toBe(true);
  });

  it("says what is missing and how to record it", () => {
    const el = renderReport({ run: "r/debugger", group: "r", last_step: null, records: {}, findings: [], curves: null }, ctx());
    expect(el.textContent).toContain("callbacks=[tb_nndebug.DebuggerCallback(log_dir)]");
    expect(el.querySelector(".nnd-missing")!.textContent).toContain("tb_nndebug.summary.robustness");
  });
});

describe("class balance with resampling", () => {
  it("draws before/after counts and the projection with synthetic points marked", () => {
    const el = renderReport(resampled as unknown as Report, ctx());
    const balance = el.querySelector('[data-panel="balance"]')!;
    expect(balance.querySelector('[data-chart="balance"] svg')).not.toBeNull();
    expect(balance.textContent).toContain("before");
    expect(balance.textContent).toContain("after");
    const proj = balance.querySelector('[data-chart="resampling-projection"]')!;
    expect(proj.textContent).toContain("synthetic");
    expect(proj.querySelectorAll("svg[class^=plot] path, svg[class^=plot] circle").length).toBeGreaterThan(100);
  });
});

describe("untrusted text renders as text", () => {
  it("creates no element from run names, tags, class names, finding texts or warnings", () => {
    const el = renderReport(xss as unknown as Report, ctx());
    document.body.appendChild(el);
    expect(el.querySelectorAll("img, script, svg[onload], a[href^='javascript'], marquee, b, i, u").length).toBe(0);
    expect([...el.querySelectorAll("*")].some((n) => [...n.attributes].some((a) => a.name.startsWith("on")))).toBe(false);
    const text = el.textContent!;
    for (const s of ["<img src=x onerror=alert(1)>/debugger", "<img src=z onerror=alert(6)> is rare", "<script>alert(7)</script>",
      '<a href="javascript:alert(8)">fix it</a>', "<marquee>warn</marquee>", "<svg onload=alert(4)>"]) {
      expect(text).toContain(s);
    }
    el.remove();
  });
});

describe("compare view", () => {
  it("sorts by the clicked column and marks it for screen readers", () => {
    const rows = (compareJson as CompareResponse).rows;
    const onSort = vi.fn();
    const el = renderCompare(rows, { ...DEFAULT_STATE, view: "compare", sort: "model_bits", desc: true }, 800, onSort);
    const firstRun = el.querySelector("tbody tr")!.getAttribute("data-run");
    expect(firstRun).toBe("exp_big/debugger");
    const th = el.querySelector('th[aria-sort="descending"]')!;
    expect(th.textContent).toContain("Model bits");
    th.querySelector("button")!.click();
    expect(onSort).toHaveBeenCalledWith("model_bits", false);
    el.querySelector<HTMLButtonElement>('button[data-key="median_eps"]')!.click();
    expect(onSort).toHaveBeenLastCalledWith("median_eps", false);
    expect(el.querySelector('[data-chart="scatter"] svg')).not.toBeNull();
    expect(el.querySelector("tbody")!.textContent).toContain("137,216");
  });
});
