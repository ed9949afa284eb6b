// The original frontend's screens, reading the answers the way it did: the campaign list and
// the leads are .map()-ed as lists, the enriched lead's fields are read without guards.
import { useEffect, useState } from "react";
import { enrichLead, getCampaigns, getLeads } from "./api.js";

export function App() {
  const [campaigns, setCampaigns] = useState([]);
  const [campaignId, setCampaignId] = useState("");
  const [leads, setLeads] = useState([]);
  const [enriched, setEnriched] = useState({});
  const [selected, setSelected] = useState(null);
  const [error, setError] = useState("");

  useEffect(() => {
    getCampaigns().then(setCampaigns).catch((e) => setError(e.message));
  }, []);

  useEffect(() => {
    if (!campaignId) return;
    getLeads(campaignId).then(setLeads).catch((e) => setError(e.message));
  }, [campaignId]);

  async function enrich(lead) {
    try {
      const result = await enrichLead(lead);
      setEnriched((prev) => ({ ...prev, [lead.lead_id]: result }));
      setSelected(result);
    } catch (e) {
      setError(e.message);
    }
  }

  return (
    <div>
      <h1>Lead Enrichment</h1>
      {error && <p id="error">{error}</p>}
      <select id="campaign" value={campaignId} onChange={(e) => setCampaignId(e.target.value)}>
        <option value="">Select a campaign</option>
        {campaigns.map((c) => (
          <option key={c.id} value={c.id}>
            {c.name}
          </option>
        ))}
      </select>
      <table id="leads">
        <tbody>
          {leads.map((lead) => (
            <tr key={lead.lead_id} data-lead-id={lead.lead_id}>
              <td>{lead.name}</td>
              <td>{lead.organization}</td>
              <td>{lead.designation}</td>
              <td>{lead.email}</td>
              <td className="state">{enriched[lead.lead_id] ? "Enriched" : "Not enriched"}</td>
              <td>
                <button onClick={() => enrich(lead)}>Enrich</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {selected && <Detail lead={selected} />}
    </div>
  );
}

function Detail({ lead }) {
  const o = lead.company_overview;
  const f = lead.funding;
  const m = lead.enrichment_metadata;
  return (
    <div id="detail">
      <h2>{lead.name}</h2>
      {o && (
        <dl id="overview">
          <dt>Description</dt>
          <dd className="description">{o.description}</dd>
          <dt>Industry</dt>
          <dd className="industry">{o.industry}</dd>
          <dt>Headcount</dt>
          <dd className="headcount">{o.headcount}</dd>
          <dt>Founded</dt>
          <dd className="founded_year">{o.founded_year}</dd>
          <dt>Region</dt>
          <dd className="region">{o.region}</dd>
          <dt>Revenue</dt>
          <dd className="estimated_revenue">{o.estimated_revenue}</dd>
        </dl>
      )}
      {lead.tech_stack && (
        <ul id="tech">
          {lead.tech_stack.map((t) => (
            <li key={t}>{t}</li>
          ))}
        </ul>
      )}
      {f && (
        <div id="funding">
          <p className="total">{f.total_funding_usd ? `$${f.total_funding_usd.toLocaleString()}` : "n/a"}</p>
          <p className="news">{f.news_summary}</p>
        </div>
      )}
      {lead.linkedin_posts && (
        <ul id="posts">
          {lead.linkedin_posts.map((p, i) => (
            <li key={i}>{p.slice(0, 300)}</li>
          ))}
        </ul>
      )}
      <p id="enriched-at">Enriched at {new Date(m.enriched_at).toLocaleString()}</p>
      <p id="found">Found: {m.signals_found.join(", ")}</p>
      <p id="missed">Missed: {m.signals_missed.join(", ")}</p>
    </div>
  );
}
