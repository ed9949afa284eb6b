#include "internal/cache_hooks.h"

#include "leadenrich/store.h"

namespace leadenrich::internal {

void StoreFault::note(const Status& status) {
  std::lock_guard lock(mu_);
  if (first_.ok()) first_ = status;
}

Status StoreFault::status() const {
  std::lock_guard lock(mu_);
  return first_;
}

namespace {

class StopOnStoreFault : public LeadSource {
 public:
  StopOnStoreFault(LeadSource& inner, std::shared_ptr<const StoreFault> fault) : inner_(inner), fault_(std::move(fault)) {}
  std::optional<SourceItem> next() override {
    if (Status st = fault_->status(); !st.ok()) {
      if (stopped_) return std::nullopt;
      stopped_ = true;
      SourceItem item;
      item.lead = st;
      item.location = "store";
      item.fatal = true;
      return item;
    }
    return inner_.next();
  }
  std::string describe() const override { return inner_.describe(); }

 private:
  LeadSource& inner_;
  std::shared_ptr<const StoreFault> fault_;
  bool stopped_ = false;
};

}  // namespace

std::unique_ptr<LeadSource> stop_on_store_fault(LeadSource& inner, std::shared_ptr<const StoreFault> fault) {
  return std::make_unique<StopOnStoreFault>(inner, std::move(fault));
}

CacheHooks make_cache_hooks(std::shared_ptr<Store> store, const Config& config, const EngineOptions& options,
                            std::shared_ptr<Clock> clock, std::shared_ptr<StoreFault> fault) {
  if (!store) return {};
  CacheHooks hooks;
  std::vector<SignalSpec> specs = config.signal_specs;
  std::optional<std::chrono::seconds> max_age = options.max_age;
  auto key = [specs](Signal s, const std::string& entity) {
    const SignalSpec& spec = find_spec(specs, s);
    return CacheKey{s, entity, spec.pipe_id, config_hash(spec)};
  };
  // A miss costs a paid lookup, so only a clean "not there" is a miss. A read error answers the
  // lookup as failed (nothing is sent for it) and is noted so the run stops with it; a write
  // error costs a later lookup.
  hooks.get = [store, clock, key, specs, max_age, fault](Signal s, const std::string& entity) -> std::optional<LookupOutcome> {
    const SignalSpec& spec = find_spec(specs, s);
    Result<std::optional<CacheEntry>> hit = store->get(key(s, entity), clock->now(), freshness_for(spec, max_age));
    if (!hit.ok()) {
      if (fault) fault->note(hit.status());
      LookupOutcome failed;
      failed.result.status = SignalStatus::kFailed;
      failed.result.source = spec.pipe_id;
      failed.result.reason = Reason{std::string(to_string(hit.status().code())), hit.status().message()};
      return failed;
    }
    if (!hit->has_value()) return std::nullopt;
    const CacheEntry& e = **hit;
    Result<SignalValue> value = value_from_json(s, e.value);
    if (!value.ok()) return std::nullopt;  // a value that no longer fits its signal: look it up again
    LookupOutcome o;
    o.result.status = e.status;
    o.result.source = e.source;
    o.result.fetched_at = e.fetched_at;
    o.result.from_cache = true;
    o.value = std::move(value).value();
    return o;
  };
  hooks.put = [store, key](Signal s, const std::string& entity, const LookupOutcome& o) {
    if (!o.result.fetched_at) return false;
    return store->put(key(s, entity), CacheEntry{o.result.status, value_to_json(o.value), o.result.source, *o.result.fetched_at}).ok();
  };
  if (!options.journal_run_id.empty()) {
    std::string run_id = options.journal_run_id;
    hooks.submitted = [store, run_id](const std::string& pipe0_run_id, const std::vector<std::string>& entities,
                                      const std::vector<Signal>& signals) {
      (void)store->record_submission(run_id, PendingSubmission{pipe0_run_id, entities, signals});
    };
    hooks.settled = [store, run_id](const std::string& pipe0_run_id) { (void)store->forget_submission(run_id, pipe0_run_id); };
  }
  return hooks;
}

}  // namespace leadenrich::internal
