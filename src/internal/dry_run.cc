// The dry run: what a run would look up and cost, after dedupe and the cache, sending nothing.
#include <unordered_set>

#include "internal/lookup_table.h"
#include "internal/plan.h"
#include "internal/run.h"

namespace leadenrich::internal {

Result<Plan> plan_enrichment(const RunContext& ctx, LeadSource& source) {
  const EngineOptions& opts = *ctx.options;
  std::vector<Signal> signals = opts.signals.empty() ? ctx.config->enabled_signals : opts.signals;
  Plan plan;
  std::unordered_set<std::string> companies, people, lookups, cached;
  std::unordered_set<std::string> record_entities;
  while (std::optional<SourceItem> item = source.next()) {
    if (!item->lead.ok()) {
      if (item->fatal) return item->lead.status();
      ++plan.bad_rows;
      continue;
    }
    ++plan.leads;
    LeadPlan lp = plan_lead(*item->lead, signals, ctx.config->signal_specs);
    if (lp.company_key) companies.insert(*lp.company_key);
    if (lp.person_key) people.insert(*lp.person_key);
    if (!lp.company_key && !lp.person_key) ++plan.leads_without_identity;
    for (Signal s : kAllSignals) {
      std::size_t i = static_cast<std::size_t>(s);
      if (lp.entity[i].empty()) {
        if (lp.local[i].status == SignalStatus::kSkipped) ++plan.skipped[i];
        continue;
      }
      std::string key = lookup_key(lp.entity[i], s);
      if (lookups.count(key) || cached.count(key)) continue;
      if (ctx.cache.get && ctx.cache.get(s, lp.entity[i])) {
        cached.insert(key);
        ++plan.cache_hits[i];
        continue;
      }
      lookups.insert(key);
      ++plan.lookups[i];
      plan.estimated_credits += ctx.config->spec(s).credits_per_lookup;
      record_entities.insert(lp.entity[i]);
    }
  }
  plan.companies = companies.size();
  plan.people = people.size();
  plan.records = record_entities.size();
  return plan;
}

}  // namespace leadenrich::internal
