// TensorBoard does not pass its dark mode to plugin iframes; the same-origin
// iframe can read the host's <body class="dark-mode"> (internal, so guarded).
export function hostBody(win: Window = window): HTMLElement | null {
  try {
    if (win.parent && win.parent !== win) return win.parent.document.body ?? null;
  } catch {
    // cross-origin host: fall back to the media query
  }
  return null;
}

export function watchDarkMode(apply: (dark: boolean) => void, win: Window = window): () => void {
  const body = hostBody(win);
  if (body) {
    const update = () => apply(body.classList.contains("dark-mode"));
    update();
    const obs = new MutationObserver(update);
    obs.observe(body, { attributes: true, attributeFilter: ["class"] });
    return () => obs.disconnect();
  }
  const mq = win.matchMedia?.("(prefers-color-scheme: dark)");
  if (!mq) {
    apply(false);
    return () => {};
  }
  const update = () => apply(mq.matches);
  update();
  mq.addEventListener("change", update);
  return () => mq.removeEventListener("change", update);
}

/** Hidden: a background browser tab, or TensorBoard showing another tab (the iframe stays, hidden by CSS). */
export function isHidden(win: Window = window): boolean {
  if (win.document.visibilityState === "hidden") return true;
  try {
    const frame = win.frameElement as HTMLElement | null;
    if (frame && frame.getClientRects().length === 0) return true;
  } catch {
    // cross-origin: only visibilityState is known
  }
  return false;
}
