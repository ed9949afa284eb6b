#include "internal/lookup_table.h"

#include <algorithm>

namespace leadenrich::internal {

std::string lookup_key(std::string_view entity, Signal s) {
  std::string key;
  std::string_view name = to_string(s);
  key.reserve(entity.size() + 1 + name.size());
  key.append(entity);
  key.push_back('\x1f');
  key.append(name);
  return key;
}

std::optional<std::pair<std::string_view, Signal>> split_lookup_key(std::string_view key) {
  std::size_t sep = key.rfind('\x1f');
  if (sep == std::string_view::npos) return std::nullopt;
  Result<Signal> s = parse_signal(key.substr(sep + 1));
  if (!s.ok()) return std::nullopt;
  return std::make_pair(key.substr(0, sep), *s);
}

// Also the key of settled lookups, where two keys with one hash would share a record: exact
// but for odds of about 1 in 10^7 over a million-lead file.
std::uint64_t lookup_hash(std::string_view entity, Signal s) {
  std::uint64_t h = std::hash<std::string_view>{}(entity);
  return h * 0x9E3779B97F4A7C15ULL + static_cast<std::uint64_t>(s) + 1;
}

std::optional<std::uint32_t> LookupTable::locate(std::string_view entity, Signal s, std::uint64_t hash) {
  if (const std::uint32_t* i = index_.find(hash)) {
    const Lookup& lk = slot(*i);
    if (lk.signal == s && lk.entity == entity) return *i;
  }
  if (!collided_.empty()) {
    auto it = collided_.find(lookup_key(entity, s));
    if (it != collided_.end()) return it->second;
  }
  return std::nullopt;
}

Lookup* LookupTable::find(std::string_view entity, Signal s) {
  std::optional<std::uint32_t> i = locate(entity, s, lookup_hash(entity, s));
  return i ? &slot(*i) : nullptr;
}

Lookup& LookupTable::insert(Lookup lookup) {
  std::uint64_t h = lookup_hash(lookup.entity, lookup.signal);
  if (std::optional<std::uint32_t> i = locate(lookup.entity, lookup.signal, h)) {
    return slot(*i) = std::move(lookup);
  }
  std::uint32_t i;
  if (!free_.empty()) {
    i = free_.back();
    free_.pop_back();
  } else {
    i = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  slots_[i] = std::make_unique<Lookup>(std::move(lookup));
  Lookup& lk = *slots_[i];
  if (index_.find(h) != nullptr) {
    collided_.emplace(lookup_key(lk.entity, lk.signal), i);
  } else {
    index_[h] = i;
  }
  return lk;
}

void LookupTable::settle(Lookup& lk, bool have_store, std::optional<Timestamp> keep_until) {
  if (!have_store) return;  // without a store every answer stays (before anything else: this runs per lead)
  if (!lk.done || !lk.in_store || !lk.waiters.empty()) return;
  std::uint64_t h = lookup_hash(lk.entity, lk.signal);
  std::optional<std::uint32_t> i = locate(lk.entity, lk.signal, h);
  if (!i || &slot(*i) != &lk) return;  // not one of this table's
  Settled& st = settled_[h];
  st.status = lk.outcome.result.status;
  st.from_cache = lk.from_cache;
  st.run = run_index(lk.run_id) & 0x7FFFFFFu;  // run_index() stays below 2^27
  const std::uint32_t* held = index_.find(h);
  if (held != nullptr && *held == *i) {
    index_.erase(h);
  } else {
    collided_.erase(lookup_key(lk.entity, lk.signal));
  }
  if (keep_until && kept_ > 0 && lk.outcome.result.fetched_at) keep(lk, h, *keep_until);  // moves its value out
  slots_[*i].reset();  // `lk` with it
  free_.push_back(*i);
}

void LookupTable::keep(Lookup& lk, std::uint64_t h, Timestamp until) {
  if (kept_ring_.size() < kept_) {
    kept_ring_.emplace_back();
  } else if (const std::uint32_t* at = kept_index_.find(kept_ring_[kept_next_].hash); at && *at == kept_next_) {
    kept_index_.erase(kept_ring_[kept_next_].hash);  // the oldest goes
  }
  std::size_t pos = kept_ring_.size() < kept_ ? kept_ring_.size() - 1 : kept_next_;
  kept_next_ = (pos + 1) % kept_;
  Kept& k = kept_ring_[pos];
  const std::string& source = lk.outcome.result.source;
  auto known = std::find(sources_.begin(), sources_.end(), source);
  if (known == sources_.end()) known = sources_.insert(sources_.end(), source);
  k.hash = h;
  k.entity = std::move(lk.entity);
  k.signal = lk.signal;
  k.source = static_cast<std::uint32_t>(known - sources_.begin());
  k.fetched_at = *lk.outcome.result.fetched_at;
  k.until = until;
  k.value = std::move(lk.outcome.value);
  kept_index_[h] = static_cast<std::uint32_t>(pos);  // a key kept before is found here from now on
}

LookupTable::Kept* LookupTable::find_kept(std::string_view entity, Signal s, std::uint64_t h) {
  const std::uint32_t* at = kept_index_.find(h);
  if (at == nullptr) return nullptr;
  Kept& k = kept_ring_[*at];
  return k.hash == h && k.signal == s && k.entity == entity ? &k : nullptr;
}

bool LookupTable::kept(std::string_view entity, Signal s) {
  return !kept_index_.empty() && find_kept(entity, s, lookup_hash(entity, s)) != nullptr;
}

std::optional<Lookup> LookupTable::restore(Signal s, const std::string& entity, const CacheGet& get, Timestamp now) {
  if (settled_.empty() || !get) return std::nullopt;
  std::uint64_t h = lookup_hash(entity, s);
  const Settled* sit = settled_.find(h);
  if (sit == nullptr) return std::nullopt;
  Settled st = *sit;
  std::optional<LookupOutcome> hit;
  if (Kept* k = find_kept(entity, s, h)) {
    if (now < k->until) {
      // As the store would give it back.
      hit.emplace();
      hit->result.status = st.status;
      hit->result.source = sources_[k->source];
      hit->result.fetched_at = k->fetched_at;
      hit->result.from_cache = true;
      hit->value = k->value;
    } else {
      kept_index_.erase(h);  // too old to use: the store decides
      k->hash = 0;
    }
  }
  if (!hit) hit = get(s, entity);
  if (!hit || hit->result.status != st.status) {
    settled_.erase(h);  // the store lost it (expired under a tiny --max-age, or unreadable)
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
  for (const auto& lk : slots_) {
    if (lk && !lk->done) out.emplace_back(lk->entity, lk->signal);
  }
  return out;
}

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
