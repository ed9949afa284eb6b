// The detail panel: every signal with its status, reason, source and freshness, the quality
// score, and the raw JSON the API returned.
import { SIGNALS, type EnrichedLead } from "./api";
import { SIGNAL_LABELS, ageLabel, valueRows } from "./format";
import { ScoreBadge, StatusBadge } from "./StatusBadge";

export function LeadDetail({ lead, onClose }: { lead: EnrichedLead; onClose: () => void }) {
  const raw = lead.lead;
  return (
    <aside className="detail" data-testid="lead-detail" aria-label={`Enrichment of ${raw.name ?? raw.lead_id}`}>
      <header className="detail-head">
        <div>
          <h2>{raw.name ?? raw.lead_id}</h2>
          <p className="muted">
            {[raw.designation, raw.organization].filter(Boolean).join(" · ") || raw.lead_id}
          </p>
        </div>
        <button className="ghost" onClick={onClose} aria-label="Close">
          ×
        </button>
      </header>
      <dl className="facts">
        <dt>Quality score</dt>
        <dd>
          <ScoreBadge score={lead.quality_score} /> <span className="muted">of 100</span>
        </dd>
        <dt>Company</dt>
        <dd>{lead.company_key ?? <span className="muted">no company domain</span>}</dd>
        <dt>Person</dt>
        <dd>{lead.person_key ?? <span className="muted">no LinkedIn profile</span>}</dd>
        <dt>Enriched</dt>
        <dd>
          {ageLabel(lead.enriched_at)}
          {lead.sandbox && <span className="tag">sandbox data</span>}
        </dd>
        <dt>Billed lookups</dt>
        <dd>{lead.billed_lookups}</dd>
      </dl>
      {SIGNALS.map((name) => {
        const s = lead.signals[name];
        const rows = valueRows(s.value);
        return (
          <section className="signal" key={name} data-testid={`signal-${name}`} data-status={s.status}>
            <div className="signal-head">
              <h3>{SIGNAL_LABELS[name]}</h3>
              <StatusBadge status={s.status} />
            </div>
            <p className="signal-meta muted">
              <span title="pipe id">{s.source}</span>
              {" · "}
              <span title={s.fetched_at ?? undefined}>
                {s.fetched_at ? `fetched ${ageLabel(s.fetched_at)}` : "not fetched"}
              </span>
              {s.from_cache && " · from cache"}
            </p>
            {s.reason && (
              <p className="reason" data-testid="reason">
                <code>{s.reason.code}</code> {s.reason.message}
              </p>
            )}
            {rows.length > 0 && (
              <dl className="value">
                {rows.map(([k, v]) => (
                  <div key={k}>
                    <dt>{k}</dt>
                    <dd>{v}</dd>
                  </div>
                ))}
              </dl>
            )}
          </section>
        );
      })}
      <details className="raw">
        <summary>Raw JSON</summary>
        <pre data-testid="raw-json">{JSON.stringify(lead, null, 2)}</pre>
      </details>
    </aside>
  );
}
