// Entry point: TensorBoard's plugin_entry.html imports this module and calls render().
import { App } from "./app";

let app: App | null = null;

export function render(): void {
  if (app) return;
  performance.mark?.("nnd:render");
  app = new App(document);
  app.start();
}
