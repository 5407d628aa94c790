import { describe, expect, it } from "vitest";
import { fmtAgo, fmtBits, fmtEps, fmtEvidence, fmtInt, fmtNum, fmtPct, fmtPixels, fmtRatio, humanizeKey, MISSING } from "../src/format";

describe("number formatting", () => {
  it("puts thousands separators in integers", () => {
    expect(fmtInt(137216)).toBe("137,216");
    expect(fmtInt(1234567.4)).toBe("1,234,567");
    expect(fmtInt(-2048)).toBe("-2,048");
  });
  it("shows an em dash for missing or non-finite numbers", () => {
    for (const v of [null, undefined, NaN, Infinity, "12", {}]) expect(fmtInt(v)).toBe(MISSING);
    expect(fmtNum(null)).toBe(MISSING);
    expect(fmtPct(undefined)).toBe(MISSING);
  });
  it("keeps three significant digits for small numbers and none for large", () => {
    expect(fmtNum(0.0634)).toBe("0.0634");
    expect(fmtNum(0.06349)).toBe("0.0635");
    expect(fmtNum(2.5)).toBe("2.5");
    expect(fmtNum(0)).toBe("0");
    expect(fmtNum(12345.6)).toBe("12,346");
    expect(fmtNum(0.0000123)).toBe("1.23e-5");
  });
  it("adds units", () => {
    expect(fmtBits(576)).toBe("576 bits");
    expect(fmtBits(null, true)).toBe("∞ bits");
    expect(fmtBits(null)).toBe(MISSING);
    expect(fmtPct(0.93)).toBe("93.0 %");
    expect(fmtEps(0.063)).toBe("ε 0.063");
    expect(fmtPixels(1200)).toBe("1,200 px");
    expect(fmtRatio(238.2)).toBe("238×");
  });
});

describe("evidence values take the unit their key implies", () => {
  it.each([
    ["model_bits", 137216, "137,216 bits"],
    ["expected_bits", 576, "576 bits"],
    ["median_eps", 0.063, "ε 0.063"],
    ["median_pixels", 12, "12 px"],
    ["pixel_fraction", 0.015, "1.5 %"],
    ["val_accuracy", 0.8, "80.0 %"],
    ["censored_fraction", 0.02, "2.0 %"],
    ["imbalance_ratio", 10, "10×"],
    ["epoch", 5, "5"],
    ["learning_rate", 0.001, "0.001"],
    ["n_samples", 60000, "60,000"],
  ])("%s = %s → %s", (key, value, text) => {
    expect(fmtEvidence(key, value)).toBe(text);
  });
  it("renders strings, booleans, lists and objects as plain text", () => {
    expect(fmtEvidence("optimizer", "Adam")).toBe("Adam");
    expect(fmtEvidence("inference_deterministic", false)).toBe("no");
    expect(fmtEvidence("label_range", [0, 9])).toBe("0, 9");
    expect(fmtEvidence("classes", Array.from({ length: 10 }, (_, i) => String(i)))).toBe("0, 1, 2, 3, 4, 5, 6, 7, … (10 in all)");
    expect(fmtEvidence("loss", { name: "mse", from_logits: false })).toBe("name: mse, from_logits: no");
    expect(fmtEvidence("counts", { cat: 3, dog: 1200 })).toBe("cat: 3, dog: 1,200");
    expect(fmtEvidence("proportions", { cat: 0.03 })).toBe("cat: 3.0 %");
    expect(fmtEvidence("x", null)).toBe(MISSING);
    expect(fmtEvidence("grad_norms", [{ layer: "dense", norm: 0.000262 }, { layer: "out", norm: 0.15 }]))
      .toBe("dense: 0.000262, out: 0.15");
    expect(fmtEvidence("dead_units", [{ layer: "conv", fraction: 0.5, units: 32 }]))
      .toBe("conv: fraction 50.0 %, units 32");
  });
  it("humanizes keys", () => {
    expect(humanizeKey("model_bits")).toBe("model bits");
    expect(humanizeKey("run_info.architecture")).toBe("run info architecture");
  });
});

describe("relative time", () => {
  const now = 1_700_000_000_000;
  it.each([
    [now / 1000 - 10, "just now"],
    [now / 1000 - 180, "3 min ago"],
    [now / 1000 - 7200, "2 h ago"],
    [now / 1000 - 4 * 86400, "4 d ago"],
  ])("%s → %s", (t, text) => expect(fmtAgo(t, now)).toBe(text));
  it("is empty without a time", () => expect(fmtAgo(null, now)).toBe(""));
});
