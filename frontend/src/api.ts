// Relative URLs only: the iframe's <base href> points at /data/plugin/nndebug/,
// which keeps working under --path_prefix, proxies and /experiment/<id>/.
import type { CompareResponse, Report, RunsResponse } from "./types";

export class ApiError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  let resp: Response;
  try {
    resp = await fetch(path, { signal, headers: { Accept: "application/json" } });
  } catch (e) {
    if ((e as Error).name === "AbortError") throw e;
    throw new ApiError(`cannot reach TensorBoard (${(e as Error).message})`, 0);
  }
  let body: unknown = null;
  try {
    body = await resp.json();
  } catch {
    body = null;
  }
  if (!resp.ok) {
    const msg = body && typeof body === "object" && "error" in body ? String((body as { error: unknown }).error) : resp.statusText;
    throw new ApiError(`HTTP ${resp.status}: ${msg}`, resp.status);
  }
  if (body === null) throw new ApiError("the answer was not JSON", resp.status);
  return body as T;
}

export function fetchRuns(signal?: AbortSignal): Promise<RunsResponse> {
  return getJson<RunsResponse>("./runs", signal);
}

export function fetchReport(run: string, signal?: AbortSignal): Promise<Report> {
  return getJson<Report>(`./report?run=${encodeURIComponent(run)}`, signal);
}

export function fetchCompare(signal?: AbortSignal): Promise<CompareResponse> {
  return getJson<CompareResponse>("./compare", signal);
}
