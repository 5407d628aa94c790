// The JSON the plugin routes return (docs/data-contract.md). Every number may be
// null: JSON has no NaN/Inf, and an unbounded bit count is written as null.

export type Severity = "error" | "warning" | "info" | "ok";
export type Counts = Record<Severity, number>;
export type Num = number | null;

export interface RunSummary {
  run: string;
  group: string;
  last_step: Num;
  last_wall_time: Num;
  kinds: string[];
  counts: Counts;
  worst: Severity | null;
}

export interface RunsResponse {
  runs: RunSummary[];
}

export interface Finding {
  id: string;
  severity: Severity;
  title: string;
  evidence: Record<string, unknown>;
  advice: string;
  step: Num;
  panel: string | null;
}

export interface RecordEntry<T = Record<string, unknown>> {
  tag: string;
  step: number;
  wall_time?: number;
  value: T;
  history?: { step: number; value: T }[];
}

export interface Balance {
  name?: string;
  stage?: "before" | "after" | null;
  counts: Record<string, number>;
  proportions?: Record<string, number>;
  imbalance_ratio?: Num;
  minority_fraction?: Num;
  rare_classes?: string[];
  normalized_entropy?: Num;
}

export interface Projection {
  method: string;
  points: number[][];
}

export interface DatasetDoc {
  name?: string;
  n_samples?: Num;
  dim?: Num;
  input_shape?: number[];
  n_classes?: Num;
  classes?: string[];
  complexity?: {
    expected_bits: Num;
    expected_bits_exact?: Num;
    max_bits: Num;
    thresholds?: Num;
    energy?: string;
  } | null;
  csg?: {
    score: Num;
    similarity: Num[][];
    overlap?: Num[][];
    eigenvalues?: Num[];
    embedding?: string;
    samples_per_class?: number;
    k?: number;
  } | null;
  balance?: Balance | null;
  input_stats?: Record<string, Num>;
  projection?: Projection | null;
}

export interface LayerDoc {
  name: string;
  kind: string;
  params: Num;
  input_bits: Num;
  capacity_bits: Num;
  output_bits: Num;
}

export interface ModelDoc {
  name?: string;
  bits: Num;
  n_params?: Num;
  trainable_params?: Num;
  input_shape?: number[];
  n_outputs?: Num;
  output_activation?: string | null;
  layers?: LayerDoc[];
}

export interface ResamplingDoc {
  method?: string;
  before?: Record<string, number>;
  after?: Record<string, number>;
  n_synthetic?: Num;
  n_removed?: Num;
  expected_bits_before?: Num;
  expected_bits_after?: Num;
  trials?: { seed: number; counts: Record<string, number>; expected_bits: Num }[];
  chosen?: number | null;
  projection?: Projection | null;
}

export interface RobustnessDoc {
  norm?: string;
  eps_max?: Num;
  n?: Num;
  clean_accuracy?: Num;
  input_size?: Num;
  min_eps?: Num[];
  status?: string[];
  median_eps?: Num;
  censored_fraction?: Num;
  misclassified_fraction?: Num;
  curve?: { eps: Num[]; robust_accuracy: Num[] } | null;
  pixels?: Num[];
  median_pixels?: Num;
  pixel_fraction?: Num;
  max_pixels?: Num;
  examples?: {
    label: unknown;
    adversarial_label: unknown;
    eps: Num;
    original?: string;
    adversarial?: string;
    difference?: string;
  }[];
}

export interface TrainingDoc {
  epoch?: number;
  epochs_planned?: Num;
  history?: Record<string, Num[]>;
  learning_rate?: Num;
}

export interface CurveSeries {
  run: string;
  tag: string;
  metric: string;
  split: string;
  points: [number, Num][];
}

export interface Marker {
  step: number;
  id: string;
  severity: Severity;
}

export interface Report {
  run: string;
  group: string;
  last_step: Num;
  records: Record<string, RecordEntry[]>;
  findings: Finding[];
  curves?: { series: CurveSeries[]; markers: Marker[] } | null;
  warnings?: string[];
}

export interface CompareRow {
  run: string;
  group: string;
  model_bits: Num;
  expected_bits: Num;
  max_bits: Num;
  ratio: Num;
  verdict: string | null;
  csg: Num;
  imbalance_ratio: Num;
  median_eps: Num;
  median_pixels: Num;
  clean_accuracy: Num;
  train_accuracy: Num;
  val_accuracy: Num;
  train_loss: Num;
  val_loss: Num;
  architecture: string | null;
  capacity_level: Num;
  counts: Counts;
  worst: Severity | null;
}

export interface CompareResponse {
  rows: CompareRow[];
}
