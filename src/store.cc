#include "leadenrich/store.h"
#include "leadenrich/work_queue.h"

#include <fmt/format.h>

namespace leadenrich {

Freshness freshness_for(const SignalSpec& spec, std::optional<std::chrono::seconds> max_age) {
  if (max_age) return Freshness{*max_age, std::min(*max_age, spec.no_result_freshness)};
  return Freshness{spec.freshness, spec.no_result_freshness};
}

Result<std::vector<std::optional<CacheEntry>>> Store::get_many(const std::vector<CacheKey>& keys, Timestamp now,
                                                                const std::vector<Freshness>& freshness) {
  if (freshness.size() != keys.size()) return invalid_argument("get_many: one freshness per key");
  std::vector<std::optional<CacheEntry>> out;
  out.reserve(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    Result<std::optional<CacheEntry>> e = get(keys[i], now, freshness[i]);
    if (!e.ok()) return e.status();
    out.push_back(std::move(e).value());
  }
  return out;
}

Status Store::record_lead(const std::string& run_id, std::size_t index, const EnrichedLead& lead, Timestamp now) {
  return record_leads(run_id, {{index, lead}}, now);
}

Status Store::put_many(const std::vector<std::pair<CacheKey, CacheEntry>>& entries) {
  Status first;
  for (const auto& [key, entry] : entries) {
    Status st = put(key, entry);
    if (first.ok()) first = st;
  }
  return first;
}

Result<std::optional<RunRecord>> Store::first_unclaimed(std::vector<RunRecord>& runs) {
  for (RunRecord& r : runs) {
    // A run another process is still going through is not "unfinished": it is busy.
    Result<bool> claimed = run_claimed(r.id);
    if (!claimed.ok()) return claimed.status();
    if (!*claimed) return std::optional<RunRecord>(std::move(r));
  }
  return std::optional<RunRecord>();
}

Result<bool> Store::acquire_lease(const CacheKey&) { return true; }
Result<std::vector<bool>> Store::acquire_leases(const std::vector<CacheKey>& keys) {
  std::vector<bool> held;
  held.reserve(keys.size());
  for (const CacheKey& key : keys) {
    Result<bool> one = acquire_lease(key);
    if (!one.ok()) return one.status();
    held.push_back(*one);
  }
  return held;
}
Status Store::release_lease(const CacheKey&) { return Status(); }
Result<bool> Store::leased_elsewhere(const CacheKey&) { return false; }

std::string config_hash(const SignalSpec& spec) {
  // FNV-1a over the pipe id and the output names: stable across builds and platforms.
  std::uint64_t h = 1469598103934665603ULL;
  auto add = [&](std::string_view s) {
    for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    h = (h ^ 0x1f) * 1099511628211ULL;
  };
  add(spec.pipe_id);
  for (const OutputField& o : spec.outputs) {
    add(o.role);
    for (const std::string& n : o.names) add(n);
  }
  return fmt::format("{:016x}", h);
}

std::string_view to_string(RunState s) {
  switch (s) {
    case RunState::kRunning: return "running";
    case RunState::kFinished: return "finished";
    case RunState::kFailed: return "failed";
    case RunState::kCancelled: return "cancelled";
  }
  return "running";
}

std::string_view to_string(ChunkState s) {
  switch (s) {
    case ChunkState::kQueued: return "queued";
    case ChunkState::kWorking: return "working";
    case ChunkState::kDone: return "done";
  }
  return "queued";
}

}  // namespace leadenrich
