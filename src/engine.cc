#include "leadenrich/engine.h"

#include <unordered_map>

#include <fmt/format.h>

#include "internal/cache_hooks.h"
#include "internal/lookup_flights.h"
#include "internal/pipe0_port.h"
#include "internal/run.h"
#include "leadenrich/pipe0.h"
#include "leadenrich/store.h"

namespace leadenrich {

std::string_view to_string(RunMode m) {
  switch (m) {
    case RunMode::kAuto: return "auto";
    case RunMode::kSync: return "sync";
    case RunMode::kAsync: return "async";
  }
  return "auto";
}

Result<RunMode> parse_run_mode(std::string_view name) {
  for (RunMode m : {RunMode::kAuto, RunMode::kSync, RunMode::kAsync}) {
    if (to_string(m) == name) return m;
  }
  return invalid_argument(fmt::format("unknown mode '{}' (valid: auto, sync, async)", name));
}

Enricher::Enricher(Config config, std::shared_ptr<Pipe0Connection> pipe0, std::shared_ptr<Store> store,
                   std::shared_ptr<Clock> clock)
    : config_(std::move(config)), pipe0_(std::move(pipe0)), store_(std::move(store)),
      clock_(clock ? std::move(clock) : system_clock()), flights_(std::make_shared<internal::LookupFlights>()) {}

std::uint64_t Enricher::shared_lookups() const { return flights_->shared(); }

Result<RunSummary> Enricher::enrich(LeadSource& source, const std::function<void(EnrichedLead&&)>& sink,
                                    const EngineOptions& options,
                                    const std::function<void(const std::string&, const Status&)>& on_bad_row) {
  if (!pipe0_) return failed_precondition("the enricher has no pipe0 connection");
  std::shared_ptr<internal::Pipe0Port> port = internal::make_pipe0_port(pipe0_, config_.signal_specs);
  auto fault = std::make_shared<internal::StoreFault>();
  internal::RunContext ctx{&config_, port.get(), clock_.get(),
                           internal::make_cache_hooks(store_, config_, options, clock_, fault), &options,
                           flights_.get()};
  std::unique_ptr<LeadSource> guarded = internal::stop_on_store_fault(source, fault);
  Result<RunSummary> summary = internal::run_enrichment(ctx, *guarded, sink, on_bad_row);
  if (Status st = fault->status(); !st.ok()) return st;  // an unreadable store ends the run with its error
  return summary;
}

Result<std::vector<EnrichedLead>> Enricher::enrich(const std::vector<RawLead>& leads, const EngineOptions& options) {
  // Every lead comes back, bad ones too: a lead the engine refused (no id, a duplicate id) is
  // returned with every enabled signal failed and the reason.
  std::vector<std::optional<EnrichedLead>> slots(leads.size());
  std::vector<std::size_t> good_index;
  std::vector<RawLead> good;
  std::vector<Signal> signals = options.signals.empty() ? config_.enabled_signals : options.signals;
  auto refused = [&](const RawLead& lead, const Status& st) {
    EnrichedLead e;
    e.lead = lead;
    e.sandbox = options.sandbox;
    for (Signal s : signals) {
      e.result(s).status = SignalStatus::kFailed;
      e.result(s).reason = Reason{std::string(to_string(st.code())), st.message()};
    }
    update_signal_lists(e);
    e.enriched_at = clock_->now();
    return e;
  };
  std::unordered_map<std::string, std::size_t> first;
  for (std::size_t i = 0; i < leads.size(); ++i) {
    if (leads[i].lead_id.empty()) {
      slots[i] = refused(leads[i], invalid_argument("lead.lead_id: missing or empty"));
    } else if (!first.emplace(leads[i].lead_id, i).second) {
      slots[i] = refused(leads[i], invalid_argument(fmt::format("duplicate lead_id '{}'", leads[i].lead_id)));
    } else {
      good_index.push_back(i);
      good.push_back(leads[i]);
    }
  }
  std::unique_ptr<LeadSource> source = make_vector_source(std::move(good));
  std::size_t next = 0;
  Result<RunSummary> summary = enrich(*source, [&](EnrichedLead&& e) { slots[good_index[next++]] = std::move(e); }, options);
  if (!summary.ok()) return summary.status();
  std::vector<EnrichedLead> out;
  out.reserve(slots.size());
  // A cancelled run stops reading: the leads it never read come back cancelled, in place.
  Status cancelled(StatusCode::kCancelled, "the run was cancelled before this lead was read");
  for (std::size_t i = 0; i < slots.size(); ++i) out.push_back(slots[i] ? std::move(*slots[i]) : refused(leads[i], cancelled));
  return out;
}

Result<EnrichedLead> Enricher::enrich_one(const RawLead& lead, const EngineOptions& options) {
  if (lead.lead_id.empty()) return invalid_argument("lead.lead_id: missing or empty");
  EngineOptions one = options;
  one.mode = RunMode::kSync;  // the runtime path: one small sync request, lowest latency
  one.retry_failed_at_end = options.retry_failed_at_end;
  Result<std::vector<EnrichedLead>> out = enrich(std::vector<RawLead>{lead}, one);
  if (!out.ok()) return out.status();
  return std::move(out->front());
}

Result<std::size_t> Enricher::recover_submissions(const std::string& journal_run_id, std::chrono::milliseconds timeout) {
  if (!store_) return failed_precondition("recovering a run needs a store");
  if (!pipe0_) return failed_precondition("recovering a run needs a pipe0 connection");
  Result<std::vector<PendingSubmission>> pending = store_->pending_submissions(journal_run_id);
  if (!pending.ok()) return pending.status();
  EngineOptions none;
  internal::CacheHooks cache = internal::make_cache_hooks(store_, config_, none, clock_);
  std::size_t recovered = 0;
  for (const PendingSubmission& sub : *pending) {
    Result<Pipe0Run> run = pipe0_->wait(sub.pipe0_run_id, timeout);
    if (!run.ok()) {
      // Expired (404) or still running: forget it; the lookups will simply be made again.
      if (run.status().code() == StatusCode::kNotFound) {
        ignore_error(store_->forget_submission(journal_run_id, sub.pipe0_run_id),
                     "kept, the expired run is only asked about again on the next resume");
      }
      continue;
    }
    Timestamp now = clock_->now();
    for (const Pipe0Record& rec : run->records) {
      std::size_t index = 0;
      try {
        index = std::stoul(rec.id);
      } catch (...) {
        continue;
      }
      if (index == 0 || index > sub.entities.size()) continue;
      std::vector<internal::ProviderField> fields;
      for (const Pipe0Field& f : rec.fields) {
        if (f.is_input()) continue;
        fields.push_back({f.name, f.value, f.status, f.reason ? f.reason->code : "",
                          f.reason ? (f.reason->message.empty() ? f.reason->summary : f.reason->message) : ""});
      }
      for (Signal s : sub.signals) {
        internal::LookupOutcome o = internal::merge_signal(config_.spec(s), fields, now);
        if (o.result.status == SignalStatus::kFound || o.result.status == SignalStatus::kNoResult) {
          cache.put(s, sub.entities[index - 1], o);
          ++recovered;
        }
      }
    }
    ignore_error(store_->forget_submission(journal_run_id, sub.pipe0_run_id),
                 "kept, the finished run is only read again on the next resume (checks are free)");
  }
  return recovered;
}

Result<Plan> Enricher::plan(LeadSource& source, const EngineOptions& options) {
  auto fault = std::make_shared<internal::StoreFault>();
  internal::RunContext ctx{&config_, nullptr, clock_.get(),
                           internal::make_cache_hooks(store_, config_, options, clock_, fault), &options};
  std::unique_ptr<LeadSource> guarded = internal::stop_on_store_fault(source, fault);
  Result<Plan> plan = internal::plan_enrichment(ctx, *guarded);
  if (Status st = fault->status(); !st.ok()) return st;
  return plan;
}

}  // namespace leadenrich
