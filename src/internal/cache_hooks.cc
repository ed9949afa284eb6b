#include "internal/cache_hooks.h"

#include "leadenrich/store.h"

namespace leadenrich::internal {

CacheHooks make_cache_hooks(std::shared_ptr<Store> store, const Config& config, const EngineOptions& options,
                            std::shared_ptr<Clock> clock) {
  if (!store) return {};
  CacheHooks hooks;
  std::vector<SignalSpec> specs = config.signal_specs;
  std::optional<std::chrono::seconds> max_age = options.max_age;
  auto key = [specs](Signal s, const std::string& entity) {
    const SignalSpec& spec = find_spec(specs, s);
    return CacheKey{s, entity, spec.pipe_id, config_hash(spec)};
  };
  // The cache is an optimisation: a read error is a miss, a write error costs a later lookup.
  hooks.get = [store, clock, key, specs, max_age](Signal s, const std::string& entity) -> std::optional<LookupOutcome> {
    Result<std::optional<CacheEntry>> hit =
        store->get(key(s, entity), clock->now(), freshness_for(find_spec(specs, s), max_age));
    if (!hit.ok() || !hit->has_value()) return std::nullopt;
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
