// Empty, loading and error states that say what to do next.
import { h } from "./dom";

export const CALLBACK_LINE = "callbacks=[tb_nndebug.DebuggerCallback(log_dir)]";

export const CALLBACK_SNIPPET = [
  "import keras, tb_nndebug",
  "",
  'log_dir = "runs/exp1"',
  "model.fit(x, y, validation_split=0.2, epochs=10,",
  "          callbacks=[keras.callbacks.TensorBoard(log_dir),",
  "                     tb_nndebug.DebuggerCallback(log_dir)])",
].join("\n");

export function loading(what: string): HTMLElement {
  return h("div", { class: "nnd-state nnd-loading", role: "status" }, h("span", { class: "nnd-spinner", attrs: { "aria-hidden": "true" } }), `Loading ${what}…`);
}

export function errorState(what: string, message: string, retry: () => void, hint?: string): HTMLElement {
  return h("div", { class: "nnd-state nnd-error", role: "alert" },
    h("h2", null, `Could not load ${what}`),
    h("p", null, message),
    hint ? h("p", { class: "nnd-muted" }, hint) : null,
    h("button", { class: "nnd-button", type: "button", on: { click: retry } }, "Retry"));
}

export function noRuns(): HTMLElement {
  return h("div", { class: "nnd-state nnd-empty", attrs: { "data-state": "no-runs" } },
    h("h2", null, "No debugger data in this logdir"),
    h("p", null, "Add the Debugger callback to model.fit — this is the line:"),
    h("pre", { class: "nnd-code nnd-code-line" }, h("code", null, CALLBACK_LINE)),
    h("p", null, "For example:"),
    h("pre", { class: "nnd-code" }, h("code", null, CALLBACK_SNIPPET)),
    h("p", { class: "nnd-muted" },
      "It writes a debugger run next to Keras's train/ and validation/ runs. A custom training loop can call the tb_nndebug.summary functions instead, as it calls tf.summary.scalar. This tab checks for new data every 15 seconds."));
}
