#include "internal/cache_hooks.h"

#include <array>
#include <unordered_map>

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

// The company answers the run stored or read last, as the store would give them back, so the
// next leads of the same companies take them from memory instead of reading them from the store
// again (with a store the run's lookup table keeps no values: see LookupTable::settle). Company
// answers are the ones many leads share; a person's rarely comes twice. Bounded: the oldest
// entry goes first, so memory stays flat over any file. Freshness is checked on every read,
// exactly as the store checks it.
class RecentAnswers {
 public:
  explicit RecentAnswers(std::size_t capacity) : ring_(capacity, nullptr) {}

  std::optional<LookupOutcome> find(Signal s, const std::string& entity, Timestamp now, Freshness fresh) {
    std::lock_guard lock(mu_);
    auto it = by_key_.find(key(s, entity, scratch_));
    if (it == by_key_.end()) return std::nullopt;
    const Answer& a = it->second;
    std::chrono::seconds window = a.status == SignalStatus::kFound ? fresh.found : fresh.no_result;
    if (now - a.fetched_at >= window) return std::nullopt;
    LookupOutcome o;
    o.result.status = a.status;
    o.result.source = a.source;
    o.result.fetched_at = a.fetched_at;
    o.result.from_cache = true;
    o.value = a.value;
    return o;
  }

  // `o` as the store keeps it: status, value, source and fetched_at.
  void keep(Signal s, const std::string& entity, const LookupOutcome& o) {
    if (!o.result.fetched_at) return;
    Answer a{o.value, o.result.source, *o.result.fetched_at, o.result.status};
    std::lock_guard lock(mu_);
    auto [it, inserted] = by_key_.try_emplace(key(s, entity), std::move(a));
    if (!inserted) {
      it->second = std::move(a);
      return;
    }
    if (ring_[next_] != nullptr) {
      std::string oldest = *ring_[next_];  // a copy: erasing frees the string it points at
      by_key_.erase(oldest);
    }
    ring_[next_] = &it->first;  // map nodes stay put until erased
    next_ = (next_ + 1) % ring_.size();
  }

 private:
  struct Answer {
    SignalValue value;
    std::string source;
    Timestamp fetched_at;
    SignalStatus status;
  };

  static std::string key(Signal s, const std::string& entity) {
    std::string k;
    return key(s, entity, k);
  }
  // The same, written into `out` (a lookup reuses one buffer instead of allocating per read).
  static std::string& key(Signal s, const std::string& entity, std::string& out) {
    out.assign(entity);
    out.push_back('\x1f');
    out.push_back(static_cast<char>('a' + static_cast<int>(s)));
    return out;
  }

  std::mutex mu_;
  std::string scratch_;  // find()'s key, under mu_
  std::unordered_map<std::string, Answer> by_key_;
  std::vector<const std::string*> ring_;  // keys in the order they came; the next to go at next_
  std::size_t next_ = 0;
};

// Enough for every signal of several thousand companies (a few MiB): leads of one company a
// few thousand lines apart still find its answers here.
constexpr std::size_t kRecentAnswers = 16384;

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
  auto recent = std::make_shared<RecentAnswers>(kRecentAnswers);
  auto is_company = [specs](Signal s) { return find_spec(specs, s).level == SignalLevel::kCompany; };
  hooks.get = [store, clock, key, specs, max_age, fault, recent, is_company](
                  Signal s, const std::string& entity) -> std::optional<LookupOutcome> {
    const SignalSpec& spec = find_spec(specs, s);
    Timestamp now = clock->now();
    Freshness fresh = freshness_for(spec, max_age);
    if (is_company(s)) {
      if (std::optional<LookupOutcome> kept = recent->find(s, entity, now, fresh)) return kept;
    }
    Result<std::optional<CacheEntry>> hit = store->get(key(s, entity), now, fresh);
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
    if (is_company(s)) recent->keep(s, entity, o);
    return o;
  };
  auto entry = [](const LookupOutcome& o) {
    return CacheEntry{o.result.status, value_to_json(o.value), o.result.source, *o.result.fetched_at};
  };
  hooks.put = [store, key, recent, is_company, entry](Signal s, const std::string& entity, const LookupOutcome& o) {
    if (!o.result.fetched_at) return false;
    if (!store->put(key(s, entity), entry(o)).ok()) return false;
    if (is_company(s)) recent->keep(s, entity, o);
    return true;
  };
  hooks.put_many = [store, key, recent, is_company, entry](const std::vector<CachePut>& puts) {
    std::vector<bool> stored(puts.size(), false);
    std::vector<std::pair<CacheKey, CacheEntry>> entries;
    entries.reserve(puts.size());
    for (const CachePut& p : puts) {
      if (p.outcome->result.fetched_at) entries.emplace_back(key(p.signal, *p.entity), entry(*p.outcome));
    }
    if (!store->put_many(entries).ok()) return stored;
    for (std::size_t i = 0; i < puts.size(); ++i) {
      if (!puts[i].outcome->result.fetched_at) continue;
      stored[i] = true;
      if (is_company(puts[i].signal)) recent->keep(puts[i].signal, *puts[i].entity, *puts[i].outcome);
    }
    return stored;
  };
  if (store->shares_leases()) {
    // A lease error is a store fault like a read error: the run stops rather than pay for
    // lookups another process may be paying for too.
    hooks.acquire_leases = [store, key, fault](const std::vector<LeaseKey>& lookups) -> Result<std::vector<bool>> {
      std::vector<CacheKey> keys;
      keys.reserve(lookups.size());
      for (const LeaseKey& l : lookups) keys.push_back(key(l.signal, l.entity));
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
