#include "internal/lookup_table.h"

namespace leadenrich::internal {

std::string lookup_key(const std::string& entity, Signal s) {
  std::string key = entity;
  key.push_back('\x1f');
  key.append(to_string(s));
  return key;
}

Lookup* LookupTable::find(const std::string& key) {
  auto it = lookups_.find(key);
  return it == lookups_.end() ? nullptr : &it->second;
}

Lookup& LookupTable::insert(const std::string& key, Lookup lookup) {
  return lookups_.insert_or_assign(key, std::move(lookup)).first->second;
}

void LookupTable::settle(const std::string& key, bool have_store) {
  if (!have_store) return;  // without a store every answer stays (before looking for it: this runs per lead)
  auto it = lookups_.find(key);
  if (it == lookups_.end()) return;
  const Lookup& lk = it->second;
  if (!lk.done || !lk.in_store || !lk.waiters.empty()) return;
  Settled& st = settled_[key_hash(key)];
  st.status = lk.outcome.result.status;
  st.from_cache = lk.from_cache;
  st.run = run_index(lk.run_id) & 0x7FFFFFFu;  // run_index() stays below 2^27
  lookups_.erase(it);
}

std::optional<Lookup> LookupTable::restore(Signal s, const std::string& entity, const std::string& key,
                                           const CacheGet& get) {
  if (settled_.empty() || !get) return std::nullopt;
  const Settled* sit = settled_.find(key_hash(key));
  if (sit == nullptr) return std::nullopt;
  Settled st = *sit;
  std::optional<LookupOutcome> hit = get(s, entity);
  if (!hit || hit->result.status != st.status) {
    settled_.erase(key_hash(key));  // the store lost it (expired under a tiny --max-age, or unreadable)
    return std::nullopt;
  }
  Lookup lk;
  lk.signal = s;
  lk.entity = entity;
  lk.done = true;
  lk.outcome = std::move(*hit);
  lk.from_cache = st.from_cache;
  lk.attributed = true;  // its billing went to the first lead that had it
  lk.in_store = true;
  if (st.run > 0) lk.run_id = std::string(run_id(st.run));
  return lk;
}

std::vector<std::pair<std::string, Signal>> LookupTable::open() const {
  std::vector<std::pair<std::string, Signal>> out;
  for (const auto& [key, lk] : lookups_) {
    if (!lk.done) out.emplace_back(lk.entity, lk.signal);
  }
  return out;
}

// Distinct keys, counted by a 64-bit hash: exact but for odds of about 1 in 10^8 at a million.
std::uint64_t LookupTable::key_hash(const std::string& key) { return std::hash<std::string>{}(key); }

// Lookups settle soon after their pipe0 run answers, so the id is almost always one of the last
// few; an id seen longer ago is kept again, which costs a few bytes and no lookup in a map.
std::uint32_t LookupTable::run_index(const std::string& run_id) {
  if (run_id.empty()) return 0;
  constexpr std::size_t kLookBack = 8;
  auto n = static_cast<std::uint32_t>(run_id_ends_.size());
  for (std::uint32_t i = n; i > 0 && n - i < kLookBack; --i) {
    if (this->run_id(i) == run_id) return i;
  }
  if (n + 1 >= (1u << 27)) return 0;  // past what Settled::run holds: its leads lack the run id
  run_ids_.append(run_id);
  run_id_ends_.push_back(run_ids_.size());
  return n + 1;
}

std::string_view LookupTable::run_id(std::uint32_t index) const {
  std::size_t begin = index > 1 ? run_id_ends_[index - 2] : 0;
  return std::string_view(run_ids_).substr(begin, run_id_ends_[index - 1] - begin);
}

}  // namespace leadenrich::internal
