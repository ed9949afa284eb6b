// Background jobs (/v1/jobs): a campaign enriched on the server, followed by polling; results
// downloaded as the server writes them (JSON lines) or as CSV.
import { ApiError, apiKey, call } from "./api";

export type JobState = "queued" | "running" | "finished" | "failed" | "cancelled";

export interface Job {
  id: string;
  state: JobState;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  spec: { campaign_id?: string; leads?: number; signals: string[]; webhook_url: string | null };
  progress: { leads_done: number; leads_total: number | null; bad_rows: number };
  counts: { billed_lookups: number; cache_hits: number; from_journal: number; attempts: number };
  run_id: string | null;
  error: string | null;
  results_url: string;
}

export const ACTIVE: readonly JobState[] = ["queued", "running"];

export const jobsApi = {
  list: () => call<{ jobs: Job[] }>("GET", "/v1/jobs").then((r) => r.jobs),
  start: (campaignId: string) => call<Job>("POST", "/v1/jobs", { campaign_id: campaignId }),
  cancel: (id: string) => call<Job>("DELETE", `/v1/jobs/${encodeURIComponent(id)}`),
  /** The results as the server has them now (the whole job once it has ended). */
  results: async (id: string, format: "jsonl" | "csv"): Promise<string> => {
    const headers: Record<string, string> = {};
    const key = apiKey();
    if (key) headers["Authorization"] = `Bearer ${key}`;
    const res = await fetch(`/v1/jobs/${encodeURIComponent(id)}/results?format=${format}`, { headers });
    const text = await res.text();
    if (!res.ok) throw new ApiError(res.status, "http", `results of ${id}: HTTP ${res.status}`);
    return text;
  },
};

/** JSON lines (one enriched lead per line) as one pretty JSON array, for a .json download. */
export function jsonLinesToArray(text: string): string {
  const items = text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as unknown);
  return JSON.stringify(items, null, 2) + "\n";
}

/** "120 / 2,000 leads", or "120 leads" while a campaign's size is not known yet. */
export function progressLabel(job: Pick<Job, "progress">): string {
  const done = job.progress.leads_done.toLocaleString("en-US");
  if (job.progress.leads_total === null) return `${done} leads`;
  return `${done} / ${job.progress.leads_total.toLocaleString("en-US")} leads`;
}

/** 0 to 100, or null while the total is unknown. */
export function progressPercent(job: Pick<Job, "progress" | "state">): number | null {
  const { leads_done, leads_total } = job.progress;
  if (job.state === "finished") return 100;
  if (!leads_total) return null;
  return Math.min(100, Math.floor((leads_done * 100) / leads_total));
}
