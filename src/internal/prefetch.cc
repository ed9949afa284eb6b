#include "internal/prefetch.h"

#include <algorithm>

#include "internal/lookup_table.h"

namespace leadenrich::internal {

void Prefetch::read(const CacheHooks& cache, const std::vector<LookupKey>& keys) {
  clear();
  if (keys.empty() || !cache.get_many) return;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> by_hash;  // (hash, position in keys)
  by_hash.reserve(keys.size());
  for (std::uint32_t i = 0; i < keys.size(); ++i) by_hash.emplace_back(lookup_hash(keys[i].entity, keys[i].signal), i);
  std::sort(by_hash.begin(), by_hash.end());
  // A key named twice is asked for once. Equal keys have equal hashes, so they sit side by side.
  std::vector<LookupKey> unique;
  unique.reserve(keys.size());
  for (auto [h, i] : by_hash) {
    const LookupKey& k = keys[i];
    bool seen = false;
    for (auto b = index_.rbegin(); b != index_.rend() && b->first == h && !seen; ++b) {
      seen = unique[b->second].signal == k.signal && unique[b->second].entity == k.entity;
    }
    if (seen) continue;
    index_.emplace_back(h, static_cast<std::uint32_t>(unique.size()));
    unique.push_back(k);
  }
  std::vector<std::optional<LookupOutcome>> got = cache.get_many(unique);
  if (got.size() != unique.size()) {  // never hand out answers to other keys
    clear();
    return;
  }
  entries_.reserve(unique.size());
  for (std::size_t i = 0; i < unique.size(); ++i) entries_.push_back(Entry{std::move(unique[i]), std::move(got[i]), false});
}

bool Prefetch::take(std::string_view entity, Signal s, std::optional<LookupOutcome>& out) {
  if (entries_.empty()) return false;
  std::uint64_t h = lookup_hash(entity, s);
  auto it = std::lower_bound(index_.begin(), index_.end(), h, [](const auto& e, std::uint64_t v) { return e.first < v; });
  for (; it != index_.end() && it->first == h; ++it) {
    Entry& e = entries_[it->second];
    if (e.key.signal != s || e.key.entity != entity) continue;
    if (e.taken) return false;
    e.taken = true;
    out = std::move(e.outcome);
    return true;
  }
  return false;
}

void Prefetch::clear() {
  entries_.clear();
  index_.clear();
}

}  // namespace leadenrich::internal
