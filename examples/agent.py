"""An SDR agent's enrichment step: pick the best-enriched leads of a campaign to write to first.

    PYTHONPATH=build/python /usr/bin/python3 examples/agent.py          # on the built-in sandbox
"""
import leadenrich


def best_leads(config: leadenrich.Config, campaign_id: str, limit: int = 20, top: int = 5):
    leads = leadenrich.AturiyaClient(config).leads(campaign_id, limit=limit)
    enriched = leadenrich.Enricher(config).enrich(leads)
    return sorted(enriched, key=lambda l: l.quality_score, reverse=True)[:top]


if __name__ == "__main__":
    with leadenrich.Sandbox() as sandbox:
        for lead in best_leads(sandbox.config, "cmp_0001"):
            overview = lead.company_overview or {}
            print(f"{lead.quality_score:3d}  {lead.lead.name:<24} {lead.company_key or '-':<24} "
                  f"{overview.get('industry') or '-':<14} found: {', '.join(lead.signals_found)}")
