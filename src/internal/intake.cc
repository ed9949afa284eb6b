#include "internal/intake.h"

#include <algorithm>

namespace leadenrich::internal {

Intake::Intake(const RunContext& ctx, LeadSource& source, const BadRowSink& on_bad_row, Delivery& delivery,
               RunLookups& lookups, RunSummary& summary, Progress& progress)
    : ctx_(ctx), source_(source), on_bad_row_(on_bad_row), delivery_(delivery), lookups_(lookups), summary_(summary),
      progress_(progress), read_ahead_(std::max<std::size_t>(1, ctx.options->read_ahead)),
      signals_(ctx.options->signals.empty() ? ctx.config->enabled_signals : ctx.options->signals) {}

void Intake::read(const std::function<void()>& admitted) {
  while (has_room()) {
    read_block(std::min(read_ahead_ - delivery_.size(), kBlock));
    lookups_.prefetch(plans_);
    for (std::size_t i = 0; i < block_.size(); ++i) {
      admit(std::move(block_[i]), std::move(plans_[i]));
      admitted();
    }
    lookups_.forget_prefetched();
  }
  progress_.source_done = done_;
}

void Intake::read_block(std::size_t n) {
  block_.clear();
  plans_.clear();
  while (block_.size() < n) {
    std::optional<SourceItem> item = source_.next();
    if (!item) {
      done_ = true;
      return;
    }
    ++progress_.leads_read;
    if (!item->lead.ok()) {
      if (item->fatal) {
        error_ = item->lead.status();
        done_ = true;
        return;
      }
      ++summary_.bad_rows;
      ++progress_.bad_rows;
      if (on_bad_row_) on_bad_row_(item->location, item->lead.status());
      continue;
    }
    block_.push_back(std::move(item->lead).value());
    plans_.push_back(plan_lead(block_.back(), signals_, ctx_.config->signal_specs));
  }
}

void Intake::admit(RawLead raw, LeadPlan plan) {
  if (plan.company_key) companies_.insert(std::hash<std::string>{}(*plan.company_key));
  if (plan.person_key) people_.insert(std::hash<std::string>{}(*plan.person_key));
  if (!plan.company_key && !plan.person_key) ++summary_.leads_without_identity;
  PendingLead& lead = delivery_.add();
  lead.lead.sandbox = ctx_.options->sandbox;
  for (Signal s : kAllSignals) {
    const std::string& entity = plan.entity[idx(s)];
    if (entity.empty()) {
      lead.lead.results[idx(s)] = plan.local[idx(s)];
      continue;
    }
    lookups_.need(lead, s, entity, raw, plan);
  }
  lead.lead.lead = std::move(raw);
  lead.lead.company_key = std::move(plan.company_key);  // the lookups above read the plan's keys
  lead.lead.person_key = std::move(plan.person_key);
  lookups_.enqueue_fresh();
}

}  // namespace leadenrich::internal
