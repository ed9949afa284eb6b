// The store reads of a block of leads, done at once: before the run admits the leads it reads
// (one by one, each lookup it does not have yet), it asks the store for all of their lookups in
// one call (CacheHooks::get_many, one store transaction). A read alone took and dropped the
// store's read lock, which cost more than looking the key up.
#ifndef LEADENRICH_INTERNAL_PREFETCH_H_
#define LEADENRICH_INTERNAL_PREFETCH_H_

#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "internal/run.h"

namespace leadenrich::internal {

class Prefetch {
 public:
  /// Replaces what was read before with the answers to `keys` (a key named twice is read once).
  void read(const CacheHooks& cache, const std::vector<LookupKey>& keys);
  /// When (entity, s) was read and not taken yet: true, with its answer (nullopt: not in the
  /// store) moved into `out`. Each answer is handed out once.
  bool take(std::string_view entity, Signal s, std::optional<LookupOutcome>& out);
  /// Forgets every answer not taken.
  void clear();
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    LookupKey key;
    std::optional<LookupOutcome> outcome;
    bool taken = false;
  };
  std::vector<Entry> entries_;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> index_;  // (lookup_hash, entry), sorted
};

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_PREFETCH_H_
