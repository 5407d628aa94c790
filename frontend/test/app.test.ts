// @vitest-environment jsdom
// The whole tab in jsdom against the fixture JSON (the browser tests run it against
// a real TensorBoard): routing through the hash, states, reloads.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { App } from "../src/app";
import { parseHash } from "../src/hashState";
import runsJson from "./fixtures/runs.json";
import flagged from "./fixtures/report_flagged.json";
import resampled from "./fixtures/report_resampled.json";
import xss from "./fixtures/report_xss.json";
import compareJson from "./fixtures/compare.json";

type Handler = (url: URL) => [number, unknown];

function serve(handler: Handler) {
  const calls: string[] = [];
  vi.stubGlobal("fetch", vi.fn(async (input: string) => {
    const url = new URL(input, "http://tb.test/data/plugin/nndebug/");
    calls.push(`${url.pathname.split("/").pop()}${url.search}`);
    const [status, body] = handler(url);
    return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
  }));
  return calls;
}

const fixtures: Handler = (url) => {
  const route = url.pathname.split("/").pop();
  if (route === "runs") return [200, runsJson];
  if (route === "compare") return [200, compareJson];
  if (route === "report") {
    const run = url.searchParams.get("run");
    const byRun: Record<string, unknown> = {
      "exp_big/debugger": flagged,
      "exp_skewed/debugger": resampled,
      "<img src=x onerror=alert(1)>/debugger": xss,
    };
    if (run && byRun[run]) return [200, byRun[run]];
    if (run && runsJson.runs.some((r) => r.run === run)) return [200, { run, group: "", last_step: null, records: {}, findings: [], curves: null }];
    return [404, { error: `unknown run: ${run}` }];
  }
  return [404, { error: "no such route" }];
};

const settle = () => new Promise((r) => setTimeout(r, 0)).then(() => new Promise((r) => setTimeout(r, 0)));

let app: App | null = null;

beforeEach(() => {
  // jsdom has no canvas; Plot paints its colour-ramp legend (the CSG heatmap's) on one.
  vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockImplementation(() => ({ fillRect() {}, fillStyle: "" }) as never);
  vi.spyOn(HTMLCanvasElement.prototype, "toDataURL").mockImplementation(() => "data:image/png;base64,");
  document.head.innerHTML = "";
  document.body.innerHTML = "";
  history.replaceState(null, "", "/data/plugin_entry.html?name=nndebug");
});
afterEach(() => {
  app?.stop();
  app = null;
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

async function start(hash = ""): Promise<App> {
  history.replaceState(null, "", `/data/plugin_entry.html?name=nndebug${hash}`);
  app = new App(document);
  app.start();
  await settle();
  await settle();
  return app;
}

describe("the Debugger tab", () => {
  it("uses relative URLs only", async () => {
    const calls = serve(fixtures);
    await start();
    expect(vi.mocked(fetch).mock.calls.every(([u]) => String(u).startsWith("./"))).toBe(true);
    expect(calls[0]).toBe("runs");
  });

  it("lists runs sickest first and opens the sickest one", async () => {
    serve(fixtures);
    await start();
    const names = [...document.querySelectorAll<HTMLElement>(".nnd-run")].map((a) => a.dataset.run);
    expect(names[0]).toBe("exp_big/debugger");
    expect(location.hash).toBe("#run=exp_big%2Fdebugger");
    expect(document.querySelector(".nnd-run-title")!.textContent).toBe("exp_big/debugger");
    expect(document.querySelector(".nnd-run-selected")!.getAttribute("data-run")).toBe("exp_big/debugger");
  });

  it("reopens the run and view named in the hash", async () => {
    serve(fixtures);
    await start("#run=exp_skewed%2Fdebugger");
    expect(document.querySelector(".nnd-run-title")!.textContent).toBe("exp_skewed/debugger");
    expect(document.querySelector(".nnd-warnings")!.textContent).toContain("newer than this reader");
  });

  it("follows links in the run list through the hash", async () => {
    serve(fixtures);
    await start();
    const link = document.querySelector<HTMLAnchorElement>('.nnd-run[data-run="exp_skewed/debugger"]')!;
    const href = link.getAttribute("href")!;
    expect(href.startsWith("/data/plugin_entry.html?name=nndebug#")).toBe(true);
    location.hash = href.slice(href.indexOf("#"));
    window.dispatchEvent(new HashChangeEvent("hashchange"));
    await settle();
    expect(document.querySelector(".nnd-run-title")!.textContent).toBe("exp_skewed/debugger");
  });

  it("filters the list by text and severity and keeps the filter in the hash", async () => {
    serve(fixtures);
    await start();
    const input = document.querySelector<HTMLInputElement>(".nnd-filter")!;
    input.value = "exp";
    input.dispatchEvent(new Event("input"));
    const sel = document.querySelector<HTMLSelectElement>(".nnd-sev-filter")!;
    sel.value = "warning";
    sel.dispatchEvent(new Event("change"));
    const names = [...document.querySelectorAll<HTMLElement>(".nnd-run")].map((a) => a.dataset.run);
    expect(names).toEqual(["exp_big/debugger", "exp_skewed/debugger"]);
    expect(location.hash).toContain("q=exp");
    expect(location.hash).toContain("sev=warning");
    expect(document.querySelector(".nnd-list-note")!.textContent).toBe("2 of 6 runs");
  });

  it("switches to compare and sorts, keeping both in the hash", async () => {
    serve(fixtures);
    await start();
    [...document.querySelectorAll<HTMLButtonElement>(".nnd-tab")].find((b) => b.textContent === "Compare")!.click();
    await settle();
    expect(location.hash).toContain("view=compare");
    document.querySelector<HTMLButtonElement>('button[data-key="median_eps"]')!.click();
    await settle();
    expect(location.hash).toContain("sort=median_eps");
    const eps = [...document.querySelectorAll("tbody tr")].map((tr) => tr.children[9].textContent);
    const nums = eps.filter((e) => e !== "—").map(Number);
    expect(nums).toEqual([...nums].sort((a, b) => a - b));
  });

  it("teaches the callback line when the logdir has no debugger data", async () => {
    serve((url) => (url.pathname.endsWith("runs") ? [200, { runs: [] }] : [404, { error: "x" }]));
    await start();
    const empty = document.querySelector('[data-state="no-runs"]')!;
    expect(empty.querySelector(".nnd-code-line")!.textContent).toBe("callbacks=[tb_nndebug.DebuggerCallback(log_dir)]");
  });

  it("says when a linked run is gone", async () => {
    serve(fixtures);
    await start("#run=deleted%2Fdebugger");
    expect(document.querySelector('[data-state="unknown-run"]')!.textContent).toContain("deleted/debugger");
  });

  it("shows the backend's error with a retry button, and retries", async () => {
    let fail = true;
    serve((url) => (fail ? [500, { error: "boom" }] : fixtures(url)));
    await start();
    const alert = document.querySelector('[role="alert"]')!;
    expect(alert.textContent).toContain("HTTP 500: boom");
    fail = false;
    alert.querySelector("button")!.click();
    await settle();
    await settle();
    expect(document.querySelector(".nnd-run-title")!.textContent).toBe("exp_big/debugger");
  });

  it("picks up new data on reload without losing the selection", async () => {
    let runs = runsJson;
    serve((url) => (url.pathname.endsWith("runs") ? [200, runs] : fixtures(url)));
    const a = await start("#run=exp_skewed%2Fdebugger");
    runs = { runs: [...runsJson.runs, { ...runsJson.runs[2], run: "new_run/debugger", group: "new_run" }] };
    await a.poll(true);
    await settle();
    expect(document.querySelectorAll(".nnd-run").length).toBe(7);
    expect(document.querySelector(".nnd-run-title")!.textContent).toBe("exp_skewed/debugger");
    expect(location.hash).toBe("#run=exp_skewed%2Fdebugger");
  });

  it("renders a hostile run name as text in the list and the report", async () => {
    serve(fixtures);
    await start("#run=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E%2Fdebugger");
    expect(document.querySelector(".nnd-run-title")!.textContent).toBe("<img src=x onerror=alert(1)>/debugger");
    expect(document.querySelectorAll("img").length).toBe(0);
    expect(document.querySelector(".nnd-run-list")!.textContent).toContain("<img src=x onerror=alert(1)>");
  });

  it("does not poll while hidden and catches up when shown again", async () => {
    const calls = serve(fixtures);
    const a = await start();
    const before = calls.length;
    const visibility = vi.spyOn(document, "visibilityState", "get").mockReturnValue("hidden");
    await a.poll();
    expect(calls.length).toBe(before);
    visibility.mockReturnValue("visible");
    document.dispatchEvent(new Event("visibilitychange"));
    await settle();
    expect(calls.slice(before)).toContain("runs");
  });

  it("shows a new report's findings at once and draws its charts in the next tasks", async () => {
    serve(fixtures);
    await start("#run=exp_big%2Fdebugger");
    expect(document.querySelectorAll(".nnd-card").length).toBe(3);
    for (let i = 0; i < 50 && document.querySelector(".nnd-chart-pending"); i++) await settle();
    expect(document.querySelector(".nnd-chart-pending")).toBeNull();
    expect(document.querySelectorAll('.nnd-chart svg[class^="plot"]').length).toBeGreaterThanOrEqual(8);
  });

  it("moves between runs with the arrow keys", async () => {
    serve(fixtures);
    await start();
    const list = document.querySelector<HTMLElement>(".nnd-run-list")!;
    list.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowDown", bubbles: true }));
    await settle();
    const second = document.querySelectorAll<HTMLElement>(".nnd-run")[1].dataset.run!;
    expect(parseHash(location.hash).run).toBe(second);
    expect((document.activeElement as HTMLElement).dataset.run).toBe(second);
    list.dispatchEvent(new KeyboardEvent("keydown", { key: "Home", bubbles: true }));
    await settle();
    expect(location.hash).toBe("#run=exp_big%2Fdebugger");
  });
});
