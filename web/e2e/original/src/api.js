// The original frontend's API calls: plain fetch, no Authorization header, no cookies.
async function json(res) {
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.json();
}

export const getCampaigns = () => fetch("/api/campaigns").then(json);
export const getLeads = (campaignId) => fetch(`/api/campaigns/${campaignId}/leads`).then(json);
export const enrichLead = (lead) =>
  fetch(`/api/leads/${lead.lead_id}/enrich`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(lead),
  }).then(json);
