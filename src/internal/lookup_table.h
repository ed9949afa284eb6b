// The run's lookups: one record per (entity, signal) that every lead needing it shares, the
// leads waiting for it, and the few bytes kept of it once the store holds its answer.
#ifndef LEADENRICH_INTERNAL_LOOKUP_TABLE_H_
#define LEADENRICH_INTERNAL_LOOKUP_TABLE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "internal/flat_hash.h"
#include "internal/merge.h"
#include "leadenrich/json.h"
#include "leadenrich/signals.h"

namespace leadenrich::internal {

/// A set of signals, one bit each.
using Mask = std::uint8_t;
constexpr Mask bit(Signal s) { return static_cast<Mask>(1u << static_cast<unsigned>(s)); }
constexpr std::size_t idx(Signal s) { return static_cast<std::size_t>(s); }

/// "entity \x1f signal": the key of a lookup, in a run and across the runs of one Enricher.
std::string lookup_key(const std::string& entity, Signal s);

struct Lookup {
  Signal signal = Signal::kCompanyOverview;
  std::string entity;
  bool done = false;
  LookupOutcome outcome;
  bool from_cache = false;
  std::vector<std::size_t> waiters;  ///< sequence numbers of the leads waiting for it
  bool attributed = false;           ///< its billing has been put on a lead
  std::string run_id;
  bool in_store = false;  ///< from the store, or written to it
  bool owned = false;     ///< this run looks it up (and, across the Enricher, flies it)
  /// Set while another run of the same Enricher looks it up: what to send should that run give up.
  std::optional<Json::Object> standby_inputs;
};

/// Reads an outcome back from the store (CacheHooks::get).
using CacheGet = std::function<std::optional<LookupOutcome>(Signal, const std::string& entity)>;

class LookupTable {
 public:
  Lookup* find(const std::string& key);
  Lookup& insert(const std::string& key, Lookup lookup);

  /// Memory stays flat over a huge file only if a finished lookup does not keep its value (a
  /// person's posts, a company's overview) for the rest of the run. With a store the answer is
  /// already on disk, so the table keeps a few bytes of it and reads it back when another lead
  /// of the same entity comes (restore()); without a store it stays, so nothing is paid twice.
  void settle(const std::string& key, bool have_store);

  /// A lookup settled earlier, read back through `get`; nullopt when it is not known or the
  /// store lost it (then it is looked up again).
  std::optional<Lookup> restore(Signal s, const std::string& entity, const std::string& key, const CacheGet& get);

  /// Every lookup not yet done, as (entity, signal).
  std::vector<std::pair<std::string, Signal>> open() const;

 private:
  // Four bytes: a million-lead file settles about as many lookups.
  struct Settled {
    SignalStatus status : 4;
    bool from_cache : 1;
    std::uint32_t run : 27;  // 1 + index of its pipe0 run id (run_id()); 0 for none
  };
  static_assert(sizeof(Settled) == 4);
  static std::uint64_t key_hash(const std::string& key);
  std::uint32_t run_index(const std::string& run_id);
  std::string_view run_id(std::uint32_t index) const;

  std::unordered_map<std::string, Lookup> lookups_;
  FlatHashMap64<Settled> settled_;
  // The pipe0 run ids settled lookups came from (a million-lead file makes some 80,000 runs),
  // end to end in one string: id i (from 1) ends at run_id_ends_[i - 1]. A string and a map
  // node per id cost about 100 bytes each.
  std::string run_ids_;
  std::vector<std::size_t> run_id_ends_;
};

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_LOOKUP_TABLE_H_
