#include "internal/cache_hooks.h"

#include <array>

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
  // Each signal's pipe id and config hash, worked out once (every read and write names them).
  auto pipes = std::make_shared<std::array<std::pair<std::string, std::string>, kSignalCount>>();
  for (Signal s : kAllSignals) {
    const SignalSpec& spec = find_spec(specs, s);
    (*pipes)[idx(s)] = {spec.pipe_id, config_hash(spec)};
  }
  auto key = [pipes](Signal s, const std::string& entity) {
    const auto& [pipe_id, hash] = (*pipes)[idx(s)];
    return CacheKey{s, entity, pipe_id, hash};
  };
  // A miss costs a paid lookup, so only a clean "not there" is a miss. A read error answers the
  // lookup as failed (nothing is sent for it) and is noted so the run stops with it; a write
  // error costs a later lookup.
  auto read_failed = [fault](const SignalSpec& spec, const Status& st) {
    if (fault) fault->note(st);
    LookupOutcome failed;
    failed.result.status = SignalStatus::kFailed;
    failed.result.source = spec.pipe_id;
    failed.result.reason = Reason{std::string(to_string(st.code())), st.message()};
    return failed;
  };
  // What the store gave back, as the run's outcome; nullopt for a value that no longer fits its
  // signal (it is looked up again).
  auto outcome = [](Signal s, const CacheEntry& e) -> std::optional<LookupOutcome> {
    Result<SignalValue> value = value_from_json(s, e.value);
    if (!value.ok()) return std::nullopt;
    LookupOutcome o;
    o.result.status = e.status;
    o.result.source = e.source;
    o.result.fetched_at = e.fetched_at;
    o.result.from_cache = true;
    o.value = std::move(value).value();
    return o;
  };
  hooks.get = [store, clock, key, specs, max_age, read_failed, outcome](
                  Signal s, const std::string& entity) -> std::optional<LookupOutcome> {
    const SignalSpec& spec = find_spec(specs, s);
    Timestamp now = clock->now();
    Result<std::optional<CacheEntry>> hit = store->get(key(s, entity), now, freshness_for(spec, max_age));
    if (!hit.ok()) return read_failed(spec, hit.status());
    if (!hit->has_value()) return std::nullopt;
    return outcome(s, **hit);
  };
  hooks.get_many = [store, clock, key, specs, max_age, read_failed, outcome](const std::vector<LookupKey>& lookups) {
    std::vector<std::optional<LookupOutcome>> out(lookups.size());
    if (lookups.empty()) return out;
    std::vector<CacheKey> keys;
    std::vector<Freshness> fresh;
    keys.reserve(lookups.size());
    fresh.reserve(lookups.size());
    for (const auto& [s, entity] : lookups) {
      keys.push_back(key(s, entity));
      fresh.push_back(freshness_for(find_spec(specs, s), max_age));
    }
    Result<std::vector<std::optional<CacheEntry>>> hits = store->get_many(keys, clock->now(), fresh);
    for (std::size_t i = 0; i < lookups.size(); ++i) {
      Signal s = lookups[i].signal;
      if (!hits.ok()) {
        out[i] = read_failed(find_spec(specs, s), hits.status());
      } else if (const std::optional<CacheEntry>& e = (*hits)[i]) {
        out[i] = outcome(s, *e);
      }
    }
    return out;
  };
  auto entry = [](const LookupOutcome& o) {
    return CacheEntry{o.result.status, value_to_json(o.value), o.result.source, *o.result.fetched_at};
  };
  hooks.put = [store, key, entry](Signal s, const std::string& entity, const LookupOutcome& o) {
    return o.result.fetched_at && store->put(key(s, entity), entry(o)).ok();
  };
  hooks.put_many = [store, key, entry](const std::vector<CachePut>& puts) {
    std::vector<bool> stored(puts.size(), false);
    std::vector<std::pair<CacheKey, CacheEntry>> entries;
    entries.reserve(puts.size());
    for (const CachePut& p : puts) {
      if (p.outcome->result.fetched_at) entries.emplace_back(key(p.signal, *p.entity), entry(*p.outcome));
    }
    if (!store->put_many(entries).ok()) return stored;
    for (std::size_t i = 0; i < puts.size(); ++i) stored[i] = puts[i].outcome->result.fetched_at.has_value();
    return stored;
  };
  if (store->shares_leases()) {
    // A lease error is a store fault like a read error: the run stops rather than pay for
    // lookups another process may be paying for too.
    hooks.acquire_leases = [store, key, fault](const std::vector<LookupKey>& lookups) -> Result<std::vector<bool>> {
      std::vector<CacheKey> keys;
      keys.reserve(lookups.size());
      for (const LookupKey& l : lookups) keys.push_back(key(l.signal, l.entity));
      Result<std::vector<bool>> got = store->acquire_leases(keys);
      if (!got.ok() && fault) fault->note(got.status());
      return got;
    };
    hooks.release_lease = [store, key, fault](Signal s, const std::string& entity) {
      Status st = store->release_lease(key(s, entity));
      if (!st.ok() && fault) fault->note(st);
    };
  }
  if (!options.journal_run_id.empty()) {
    std::string run_id = options.journal_run_id;
    hooks.submitted = [store, run_id](const std::string& pipe0_run_id, const std::vector<std::string>& entities,
                                      const std::vector<Signal>& signals) {
      ignore_error(store->record_submission(run_id, PendingSubmission{pipe0_run_id, entities, signals}),
                   "best effort: unrecorded, a resumed run submits these lookups again instead of checking");
    };
    hooks.settled = [store, run_id](const std::string& pipe0_run_id) {
      ignore_error(store->forget_submission(run_id, pipe0_run_id),
                   "best effort: still recorded, a resumed run checks the finished run again (free)");
    };
  }
  return hooks;
}

}  // namespace leadenrich::internal
