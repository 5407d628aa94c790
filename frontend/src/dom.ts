// The one way this tab makes DOM: createElement + textContent. No innerHTML, so
// run names, tags and finding texts can never become markup.
export type Child = Node | string | number | null | undefined | false | Child[];

export interface Props {
  class?: string;
  title?: string;
  id?: string;
  href?: string;
  role?: string;
  type?: string;
  style?: Partial<CSSStyleDeclaration>;
  attrs?: Record<string, string>;
  dataset?: Record<string, string>;
  on?: Partial<{ [K in keyof HTMLElementEventMap]: (ev: HTMLElementEventMap[K]) => void }>;
}

export function append(parent: Node, ...children: Child[]): void {
  const doc = parent.ownerDocument ?? (parent as Document);
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(parent, ...c);
    else if (typeof c === "string" || typeof c === "number") parent.appendChild(doc.createTextNode(String(c)));
    else parent.appendChild(c);
  }
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K, props: Props | null = null, ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props) {
    if (props.class) el.className = props.class;
    if (props.title !== undefined) el.title = props.title;
    if (props.id) el.id = props.id;
    if (props.href !== undefined) el.setAttribute("href", props.href);
    if (props.role) el.setAttribute("role", props.role);
    if (props.type) el.setAttribute("type", props.type);
    if (props.style) Object.assign(el.style, props.style);
    for (const [k, v] of Object.entries(props.attrs ?? {})) el.setAttribute(k, v);
    for (const [k, v] of Object.entries(props.dataset ?? {})) el.dataset[k] = v;
    for (const [k, fn] of Object.entries(props.on ?? {})) el.addEventListener(k, fn as EventListener);
  }
  append(el, ...children);
  return el;
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}
