// Pure helpers for what the UI shows; tested in format.test.ts.
import type { EnrichedLead, EnrichmentSummary, SignalName, SignalStatus } from "./api";

export { SIGNAL_LABELS } from "./api";

/** "found" -> "found", "no_result" -> "no result", "budget_exhausted" -> "budget exhausted". */
export function statusLabel(status: SignalStatus | undefined): string {
  return status ? status.replace(/_/g, " ") : "not enriched";
}

/** How long ago `iso` was, relative to `now`: "just now", "5 min ago", "3 h ago", "2 d ago". */
export function ageLabel(iso: string | null | undefined, now: Date = new Date()): string {
  if (!iso) return "—";
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return "—";
  const seconds = Math.max(0, Math.round((now.getTime() - then) / 1000));
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}

/** The table's summary of a full result, the same shape the leads page carries. */
export function summarize(lead: EnrichedLead): EnrichmentSummary {
  const statuses: EnrichmentSummary["statuses"] = {};
  for (const [name, entry] of Object.entries(lead.signals)) statuses[name as SignalName] = entry.status;
  return {
    quality_score: lead.quality_score,
    signals_found: lead.signals_found,
    signals_missed: lead.signals_missed,
    enriched_at: lead.enriched_at,
    statuses,
  };
}

/** A signal value as label/text rows: nested objects and lists flattened to readable text. */
export function valueRows(value: Record<string, unknown> | null): [string, string][] {
  if (!value) return [];
  const text = (v: unknown): string => {
    if (v === null || v === undefined) return "—";
    if (Array.isArray(v)) return v.map(text).join("; ");
    if (typeof v === "object") {
      return Object.entries(v as Record<string, unknown>)
        .filter(([, x]) => x !== null && x !== undefined)
        .map(([k, x]) => (typeof x === "object" ? `${k}: ${text(x)}` : `${k}: ${String(x)}`))
        .join(", ");
    }
    return String(v);
  };
  return Object.entries(value).map(([k, v]) => [k.replace(/_/g, " "), text(v)]);
}
