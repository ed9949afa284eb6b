#include "internal/delivery.h"

#include <algorithm>

namespace leadenrich::internal {

PendingLead& Delivery::add() {
  std::unique_ptr<PendingLead> p;
  if (spare_.empty()) {
    p = std::make_unique<PendingLead>();
  } else {
    p = std::move(spare_.back());  // emptied when it was kept
    spare_.pop_back();
  }
  p->seq = next_seq_++;
  p->pending = 0;
  leads_.push_back(std::move(p));
  return *leads_.back();
}

PendingLead& Delivery::add(EnrichedLead lead) {
  PendingLead& p = add();
  p.lead = std::move(lead);
  return p;
}

void Delivery::apply_once(PendingLead& p, Lookup&& lk) const {
  bool found = lk.outcome.result.status == SignalStatus::kFound;
  SignalValue value = found ? std::move(lk.outcome.value) : SignalValue();
  apply(p, lk);  // everything but the value (moved out above: it copies nothing)
  if (found) apply_value(p.lead, lk.signal, std::move(value));
}

void Delivery::apply(PendingLead& p, Lookup& lk) const {
  std::size_t i = idx(lk.signal);
  SignalResult r = lk.outcome.result;
  r.from_cache = lk.from_cache;
  p.lead.results[i] = std::move(r);
  if (lk.outcome.result.status == SignalStatus::kFound) apply_value(p.lead, lk.signal, lk.outcome.value);
  std::vector<std::string>& ids = p.lead.provider_run_ids;
  if (!lk.run_id.empty() && std::find(ids.begin(), ids.end(), lk.run_id) == ids.end()) ids.push_back(lk.run_id);
  if (lk.outcome.billed && !lk.attributed && !lk.from_cache) {
    lk.attributed = true;
    ++p.lead.billed_lookups;
    p.lead.estimated_credits += config_.spec(lk.signal).credits_per_lookup;
  }
}

void Delivery::answer(std::size_t seq, Lookup& lk) {
  PendingLead& p = at(seq);
  apply(p, lk);
  --p.pending;
}

std::size_t Delivery::emit_ready(const LeadSink& sink, RunSummary& summary) {
  std::size_t n = 0;
  while (!leads_.empty() && leads_.front()->pending == 0) {
    EnrichedLead& e = leads_.front()->lead;
    update_signal_lists(e);
    Timestamp t = clock_.now();
    e.quality_score = compute_quality_score(e, config_.signal_specs, t);
    e.enriched_at = t;
    for (Signal s : kAllSignals) ++summary.counts[idx(s)][static_cast<std::size_t>(e.result(s).status)];
    ++summary.leads;
    ++n;
    sink(std::move(e));
    if (spare_.size() < spare_leads_) {
      e = EnrichedLead();  // what the sink left in it goes now, as it would with the lead
      spare_.push_back(std::move(leads_.front()));
    }
    leads_.pop_front();
  }
  return n;
}

}  // namespace leadenrich::internal
