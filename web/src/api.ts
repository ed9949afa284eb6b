// The leadenrich-server API (GET /openapi.json describes it), typed for the UI.

/** Each signal the server reports (its table of signals, src/signals/), with the UI's label for it. */
export const SIGNAL_LABELS = {
  company_overview: "Company overview",
  tech_stack: "Tech stack",
  funding: "Funding",
  news: "News",
  linkedin_posts: "LinkedIn posts",
} as const;
export type SignalName = keyof typeof SIGNAL_LABELS;
/** The signals in the server's order. */
export const SIGNALS = Object.keys(SIGNAL_LABELS) as SignalName[];
export type SignalStatus = "found" | "no_result" | "skipped" | "failed" | "disabled" | "budget_exhausted";

export interface RawLead {
  lead_id: string;
  name?: string | null;
  email?: string | null;
  organization?: string | null;
  designation?: string | null;
  website?: string | null;
  linkedin_url?: string | null;
  [key: string]: unknown;
}

export interface SignalEntry {
  status: SignalStatus;
  reason: { code: string; message: string } | null;
  source: string;
  fetched_at: string | null;
  from_cache: boolean;
  value: Record<string, unknown> | null;
}

export interface EnrichedLead {
  lead: RawLead;
  company_key: string | null;
  person_key: string | null;
  signals: Record<SignalName, SignalEntry>;
  signals_found: SignalName[];
  signals_missed: SignalName[];
  quality_score: number;
  enriched_at: string | null;
  provider_run_ids: string[];
  billed_lookups: number;
  estimated_credits: number;
  sandbox: boolean;
}

export interface EnrichmentSummary {
  quality_score: number;
  signals_found: SignalName[];
  signals_missed: SignalName[];
  enriched_at: string | null;
  statuses: Partial<Record<SignalName, SignalStatus>>;
}

export interface Health {
  status: string;
  version: string;
  sandbox: boolean;
  auth: boolean;
  max_batch: number;
}

export interface Campaign {
  id: string;
  name: string;
}

export interface LeadsPage {
  campaign_id: string;
  page: number;
  per_page: number;
  has_next: boolean;
  leads: { lead: RawLead; enrichment: EnrichmentSummary | null }[];
  bad_leads: { index: number; error: string }[];
}

/** An error answer of the API: {"error": {"code", "message"}} with its HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const KEY_STORAGE = "leadenrich.apiKey";

export function apiKey(): string {
  return sessionStorage.getItem(KEY_STORAGE) ?? "";
}

export function setApiKey(key: string): void {
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
}

export async function call<T>(method: "GET" | "POST" | "DELETE", path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  const key = apiKey();
  if (key) headers["Authorization"] = `Bearer ${key}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, "network", `cannot reach the server: ${(e as Error).message}`);
  }
  const text = await res.text();
  if (!res.ok) {
    try {
      const { error } = JSON.parse(text) as { error: { code: string; message: string } };
      throw new ApiError(res.status, error.code, error.message);
    } catch (e) {
      if (e instanceof ApiError) throw e;
      throw new ApiError(res.status, "http", `HTTP ${res.status}`);
    }
  }
  return JSON.parse(text) as T;
}

export const api = {
  health: () => call<Health>("GET", "/api/health"),
  campaigns: () => call<{ campaigns: Campaign[] }>("GET", "/v1/campaigns").then((r) => r.campaigns),
  leads: (campaignId: string, page: number, perPage: number) =>
    call<LeadsPage>(
      "GET",
      `/v1/campaigns/${encodeURIComponent(campaignId)}/leads?page=${page}&per_page=${perPage}`,
    ),
  enrich: (leadId: string) => call<EnrichedLead>("POST", `/v1/leads/${encodeURIComponent(leadId)}/enrich`),
  enrichment: (leadId: string) =>
    call<EnrichedLead>("GET", `/v1/leads/${encodeURIComponent(leadId)}/enrichment`),
  enrichBatch: (leads: RawLead[]) =>
    call<{ leads: EnrichedLead[]; summary: { leads: number; billed_lookups: number; cache_hits: number } }>(
      "POST",
      "/v1/enrich",
      { leads },
    ),
};
