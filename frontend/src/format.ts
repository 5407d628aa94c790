// Number formatting: thousands separators, units, and an em dash for "missing".
// Fixed locale so screenshots and tests read the same everywhere.
const LOCALE = "en-US";
const INT = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0 });

export const MISSING = "—";

export function isNum(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

/** Integer with thousands separators: 137216 → "137,216". */
export function fmtInt(v: unknown): string {
  return isNum(v) ? INT.format(Math.round(v)) : MISSING;
}

/**
 * A general number: large ones with separators and no decimals, small ones with
 * three significant digits (0.000123 → "0.000123", 2.5 → "2.5", 0 → "0").
 */
export function fmtNum(v: unknown, digits = 3): string {
  if (!isNum(v)) return MISSING;
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1000) return INT.format(Math.round(v));
  if (a >= 1e-4) {
    return new Intl.NumberFormat(LOCALE, { maximumSignificantDigits: digits }).format(v);
  }
  return v.toExponential(digits - 1);
}

/** Bits; null means unbounded where the contract says so (layer input bits). */
export function fmtBits(v: unknown, nullIsInfinite = false): string {
  if (v === null && nullIsInfinite) return "∞ bits";
  return isNum(v) ? `${fmtInt(v)} bits` : MISSING;
}

export function fmtPct(v: unknown, digits = 1): string {
  if (!isNum(v)) return MISSING;
  return `${(v * 100).toFixed(digits)} %`;
}

export function fmtEps(v: unknown): string {
  return isNum(v) ? `ε ${fmtNum(v)}` : MISSING;
}

export function fmtPixels(v: unknown): string {
  return isNum(v) ? `${fmtInt(v)} px` : MISSING;
}

export function fmtRatio(v: unknown): string {
  return isNum(v) ? `${fmtNum(v)}×` : MISSING;
}

/** "model_bits" → "model bits". */
export function humanizeKey(key: string): string {
  return key.replace(/[_.]+/g, " ").trim();
}

/** An evidence value, with the unit its key implies. */
export function fmtEvidence(key: string, value: unknown): string {
  if (value === null || value === undefined) return MISSING;
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "string") return value;
  if (isNum(value)) {
    const k = key.toLowerCase();
    if (/bits?($|_)/.test(k)) return fmtBits(value);
    if (/(^|_)eps($|_)|epsilon/.test(k)) return fmtEps(value);
    if (/pixels?($|_)/.test(k) && !/fraction/.test(k)) return fmtPixels(value);
    if (/(fraction|accuracy|proportion|share)s?($|_)/.test(k)) return fmtPct(value);
    if (/(^|_)(ratio|factor|times)($|_)/.test(k)) return fmtRatio(value);
    if (/(^|_)(epoch|step|units|count|n|samples|params)s?($|_)/.test(k) || Number.isInteger(value)) {
      return Number.isInteger(value) ? fmtInt(value) : fmtNum(value);
    }
    return fmtNum(value);
  }
  if (Array.isArray(value)) {
    const parts = value.slice(0, 8).map((x) =>
      isNum(x) ? fmtNum(x) : typeof x === "string" ? x : isRecord(x) ? fmtRow(x) : JSON.stringify(x));
    return value.length > 8 ? `${parts.join(", ")}, … (${fmtInt(value.length)} in all)` : parts.join(", ");
  }
  if (typeof value === "object") {
    // {"cat": 3, "dog": 97} → "cat: 3, dog: 97", each value with the unit of the parent key
    const entries = Object.entries(value as Record<string, unknown>);
    const parts = entries.slice(0, 8).map(([k, v]) => `${k}: ${typeof v === "object" && v !== null ? JSON.stringify(v) : fmtEvidence(key, v)}`);
    return entries.length > 8 ? `${parts.join(", ")}, … (${fmtInt(entries.length)} in all)` : parts.join(", ");
  }
  return String(value);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** One row of a per-layer table, e.g. {"layer": "dense", "norm": 2.6e-7} → "dense: 2.6e-7". */
export function fmtRow(row: Record<string, unknown>): string {
  const entries = Object.entries(row);
  const labelEntry = entries.find(([, v]) => typeof v === "string");
  const rest = entries.filter((e) => e !== labelEntry);
  const values = rest.map(([k, v]) => (isRecord(v) || Array.isArray(v) ? JSON.stringify(v) : fmtEvidence(k, v)));
  const text = rest.length === 1 ? values[0] : rest.map(([k], i) => `${humanizeKey(k)} ${values[i]}`).join(", ");
  return labelEntry ? `${String(labelEntry[1])}: ${text}` : text;
}

/** "just now", "3 min ago", "2 h ago", "4 d ago" from Unix seconds. */
export function fmtAgo(wallTime: unknown, nowMs: number = Date.now()): string {
  if (!isNum(wallTime)) return "";
  const s = Math.max(0, nowMs / 1000 - wallTime);
  if (s < 45) return "just now";
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}
