// leadenrich web UI: pick a campaign, see its leads with their enrichment status, enrich one or
// all shown, and read a lead's every signal.
import { useCallback, useEffect, useState } from "react";
import {
  ApiError,
  SIGNALS,
  api,
  apiKey,
  setApiKey,
  type Campaign,
  type EnrichedLead,
  type EnrichmentSummary,
  type Health,
  type LeadsPage,
} from "./api";
import { SIGNAL_LABELS, ageLabel, summarize } from "./format";
import { JobsView } from "./Jobs";
import { LeadDetail } from "./LeadDetail";
import { ScoreBadge, StatusBadge } from "./StatusBadge";

const PER_PAGE = 25;

export function App() {
  const [health, setHealth] = useState<Health | null>(null);
  const [needKey, setNeedKey] = useState(false);
  const [campaigns, setCampaigns] = useState<Campaign[]>([]);
  const [campaignId, setCampaignId] = useState("");
  const [page, setPage] = useState(1);
  const [leads, setLeads] = useState<LeadsPage | null>(null);
  const [summaries, setSummaries] = useState<Record<string, EnrichmentSummary>>({});
  const [busy, setBusy] = useState<Set<string>>(new Set());
  const [detail, setDetail] = useState<EnrichedLead | null>(null);
  const [error, setError] = useState("");
  const [notice, setNotice] = useState("");
  const [loading, setLoading] = useState(false);
  const [view, setView] = useState<"leads" | "jobs">("leads");

  const fail = useCallback((e: unknown) => {
    if (e instanceof ApiError && e.status === 401) {
      setNeedKey(true);
      setError(apiKey() ? "That API key was refused." : "");
      return;
    }
    setError(e instanceof Error ? e.message : String(e));
  }, []);

  const loadCampaigns = useCallback(async () => {
    setError("");
    try {
      const list = await api.campaigns();
      setNeedKey(false);
      setCampaigns(list);
      setCampaignId((current) => current || list[0]?.id || "");
    } catch (e) {
      fail(e);
    }
  }, [fail]);

  useEffect(() => {
    api.health().then(setHealth, fail);
    void loadCampaigns();
  }, [fail, loadCampaigns]);

  useEffect(() => {
    if (!campaignId) return;
    let cancelled = false;
    setLoading(true);
    setError("");
    api
      .leads(campaignId, page, PER_PAGE)
      .then((p) => {
        if (cancelled) return;
        setLeads(p);
        const next: Record<string, EnrichmentSummary> = {};
        for (const { lead, enrichment } of p.leads) if (enrichment) next[lead.lead_id] = enrichment;
        setSummaries(next);
      }, fail)
      .finally(() => !cancelled && setLoading(false));
    return () => {
      cancelled = true;
    };
  }, [campaignId, page, fail]);

  const mark = (ids: string[], on: boolean) =>
    setBusy((old) => {
      const next = new Set(old);
      for (const id of ids) (on ? next.add(id) : next.delete(id));
      return next;
    });

  const remember = (results: EnrichedLead[]) =>
    setSummaries((old) => {
      const next = { ...old };
      for (const r of results) next[r.lead.lead_id] = summarize(r);
      return next;
    });

  const enrichOne = async (leadId: string) => {
    mark([leadId], true);
    setError("");
    try {
      const result = await api.enrich(leadId);
      remember([result]);
      setDetail(result);
    } catch (e) {
      fail(e);
    } finally {
      mark([leadId], false);
    }
  };

  const enrichShown = async () => {
    if (!leads) return;
    const shown = leads.leads.map((l) => l.lead);
    const ids = shown.map((l) => l.lead_id);
    const batch = Math.max(1, health?.max_batch ?? 100);
    mark(ids, true);
    setError("");
    setNotice("");
    let billed = 0;
    let hits = 0;
    try {
      for (let i = 0; i < shown.length; i += batch) {
        const r = await api.enrichBatch(shown.slice(i, i + batch));
        remember(r.leads);
        billed += r.summary.billed_lookups;
        hits += r.summary.cache_hits;
      }
      setNotice(`Enriched ${shown.length} leads: ${billed} billed lookups, ${hits} signals from cache.`);
    } catch (e) {
      fail(e);
    } finally {
      mark(ids, false);
    }
  };

  const openDetail = async (leadId: string) => {
    try {
      setDetail(await api.enrichment(leadId));
    } catch (e) {
      fail(e);
    }
  };

  const submitKey = (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const key = new FormData(e.currentTarget).get("key");
    setApiKey(typeof key === "string" ? key.trim() : "");
    void loadCampaigns();
  };

  return (
    <div className="app">
      <header className="top">
        <h1>leadenrich</h1>
        {health && (
          <span className="muted" data-testid="server-version">
            server {health.version}
          </span>
        )}
        {health?.sandbox && (
          <span className="tag" data-testid="sandbox-tag">
            sandbox: synthetic data
          </span>
        )}
        <nav className="tabs">
          <button className={view === "leads" ? "" : "ghost"} data-testid="tab-leads" onClick={() => setView("leads")}>
            Leads
          </button>
          <button className={view === "jobs" ? "" : "ghost"} data-testid="tab-jobs" onClick={() => setView("jobs")}>
            Jobs
          </button>
        </nav>
      </header>

      {needKey && (
        <form className="key-form" onSubmit={submitKey} data-testid="key-form">
          <label>
            API key <input name="key" type="password" autoComplete="off" placeholder="LEADENRICH_API_KEYS entry" />
          </label>
          <button type="submit">Use key</button>
          <span className="muted">Kept for this browser tab only.</span>
        </form>
      )}

      {error && (
        <p className="error" role="alert" data-testid="error">
          {error}
        </p>
      )}
      {notice && (
        <p className="notice" role="status" data-testid="notice">
          {notice}
        </p>
      )}

      {view === "jobs" && !needKey && <JobsView campaigns={campaigns} campaignId={campaignId} onError={fail} />}

      {view === "leads" && (
      <>
      <div className="toolbar">
        <label>
          Campaign{" "}
          <select
            data-testid="campaign-select"
            value={campaignId}
            onChange={(e) => {
              setCampaignId(e.target.value);
              setPage(1);
              setDetail(null);
              setNotice("");
            }}
          >
            {campaigns.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name} ({c.id})
              </option>
            ))}
          </select>
        </label>
        <button
          data-testid="enrich-all"
          onClick={enrichShown}
          disabled={!leads || leads.leads.length === 0 || busy.size > 0}
        >
          Enrich all shown
        </button>
        <span className="pager">
          <button className="ghost" disabled={page <= 1 || loading} onClick={() => setPage(page - 1)}>
            ← Prev
          </button>
          <span data-testid="page-number">page {page}</span>
          <button className="ghost" disabled={!leads?.has_next || loading} onClick={() => setPage(page + 1)}>
            Next →
          </button>
        </span>
      </div>

      <main className={detail ? "with-detail" : ""}>
        <div className="table-wrap">
        <table className="leads" data-testid="leads-table" aria-busy={loading}>
          <thead>
            <tr>
              <th>Lead</th>
              <th>Company</th>
              {SIGNALS.map((s) => (
                <th key={s} className="sig">
                  {SIGNAL_LABELS[s]}
                </th>
              ))}
              <th>Score</th>
              <th>Enriched</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {leads?.leads.map(({ lead }) => {
              const summary = summaries[lead.lead_id];
              const working = busy.has(lead.lead_id);
              return (
                <tr
                  key={lead.lead_id}
                  data-testid="lead-row"
                  data-lead-id={lead.lead_id}
                  className={detail?.lead.lead_id === lead.lead_id ? "selected" : ""}
                  onClick={() => summary && openDetail(lead.lead_id)}
                >
                  <td>
                    <div className="name">{lead.name ?? lead.lead_id}</div>
                    <div className="muted small">{lead.designation ?? ""}</div>
                  </td>
                  <td>
                    <div>{lead.organization ?? "—"}</div>
                    <div className="muted small">{lead.website ?? lead.email ?? ""}</div>
                  </td>
                  {SIGNALS.map((s) => (
                    <td key={s} className="sig">
                      <StatusBadge status={summary?.statuses[s]} />
                    </td>
                  ))}
                  <td>
                    <ScoreBadge score={summary?.quality_score} />
                  </td>
                  <td className="muted small">{summary ? ageLabel(summary.enriched_at) : "—"}</td>
                  <td>
                    <button
                      data-testid="enrich-button"
                      disabled={working}
                      onClick={(e) => {
                        e.stopPropagation();
                        void enrichOne(lead.lead_id);
                      }}
                    >
                      {working ? "Enriching…" : summary ? "Re-enrich" : "Enrich"}
                    </button>
                  </td>
                </tr>
              );
            })}
            {leads && leads.leads.length === 0 && (
              <tr>
                <td colSpan={SIGNALS.length + 5} className="muted">
                  No leads on this page.
                </td>
              </tr>
            )}
          </tbody>
        </table>
        {leads && leads.bad_leads.length > 0 && (
          <p className="error small">
            {leads.bad_leads.length} lead(s) on this page could not be read: {leads.bad_leads[0].error}
          </p>
        )}
        </div>
        {detail && <LeadDetail lead={detail} onClose={() => setDetail(null)} />}
      </main>
      </>
      )}
    </div>
  );
}
