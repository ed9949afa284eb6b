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
  auto it = lookups_.find(key);
  if (it == lookups_.end()) return;
  const Lookup& lk = it->second;
  if (!have_store || !lk.done || !lk.in_store || !lk.waiters.empty()) return;
  settled_[key_hash(key)] = SettledLookup{lk.outcome.result.status, lk.from_cache, run_index(lk.run_id)};
  lookups_.erase(it);
}

std::optional<Lookup> LookupTable::restore(Signal s, const std::string& entity, const std::string& key,
                                           const CacheGet& get) {
  if (settled_.empty() || !get) return std::nullopt;
  const SettledLookup* sit = settled_.find(key_hash(key));
  if (sit == nullptr) return std::nullopt;
  SettledLookup st = *sit;
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
  if (st.run > 0) lk.run_id = run_ids_[st.run - 1];
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

std::uint32_t LookupTable::run_index(const std::string& run_id) {
  if (run_id.empty()) return 0;
  auto [it, inserted] = run_index_.try_emplace(run_id, static_cast<std::uint32_t>(run_ids_.size() + 1));
  if (inserted) run_ids_.push_back(run_id);
  return it->second;
}

}  // namespace leadenrich::internal
