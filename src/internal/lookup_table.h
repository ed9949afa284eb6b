// The run's lookups: one record per (entity, signal) that every lead needing it shares, the
// leads waiting for it, and the few bytes kept of it once the store holds its answer.
#ifndef LEADENRICH_INTERNAL_LOOKUP_TABLE_H_
#define LEADENRICH_INTERNAL_LOOKUP_TABLE_H_

#include <cstdint>
#include <functional>
#include <memory>
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

/// "entity \x1f signal": the key of a lookup across the runs of one Enricher (LookupFlights).
std::string lookup_key(std::string_view entity, Signal s);
/// The entity and signal a lookup_key() names; nullopt for any other text.
std::optional<std::pair<std::string_view, Signal>> split_lookup_key(std::string_view key);

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
  bool leased = false;    ///< owned, and this process holds its lease (single flight across processes)
  bool watching = false;  ///< owned, but another process holds its lease: the LeaseWatcher waits for its answer
  bool answered_elsewhere = false;  ///< owned, answered by another process's lookup (already in the store)
  /// Set while another run of the same Enricher looks it up: what to send should that run give up.
  std::optional<Json::Object> standby_inputs;
};

/// A 64-bit hash of (entity, signal), as the run's tables key lookups by.
std::uint64_t lookup_hash(std::string_view entity, Signal s);

/// Reads an outcome back from the store (CacheHooks::get).
using CacheGet = std::function<std::optional<LookupOutcome>(Signal, const std::string& entity)>;

/// Lookups are found by a 64-bit hash of (entity, signal) in a flat table and checked against
/// the entity they hold, so a lead's need builds no key string; a lookup stays at its address
/// until it settles.
class LookupTable {
 public:
  /// With a store, the answers of up to `kept` settled lookups that many leads share (a
  /// company's) stay in memory as the store holds them, the oldest going first, so the next
  /// leads of the company take them without reading the store.
  explicit LookupTable(std::size_t kept = 0) : kept_(kept) {}
  LookupTable(const LookupTable&) = delete;
  LookupTable& operator=(const LookupTable&) = delete;

  Lookup* find(std::string_view entity, Signal s);
  /// Adds `lookup` under its entity and signal, replacing the one there.
  Lookup& insert(Lookup lookup);

  /// Memory stays flat over a huge file only if a finished lookup does not keep its value (a
  /// person's posts, a company's overview) for the rest of the run. With a store the answer is
  /// already on disk, so the table keeps a few bytes of it and reads it back when another lead
  /// of the same entity comes (restore()); without a store it stays, so nothing is paid twice.
  /// `lookup` (one of this table's) is gone when it settles. Given `keep_until`, its answer is
  /// kept in memory until then (among the last `kept`).
  void settle(Lookup& lookup, bool have_store, std::optional<Timestamp> keep_until = std::nullopt);

  /// A lookup settled earlier: its answer kept in memory while `now` is before its time, else
  /// read back through `get`; nullopt when it is not known or the store lost it (then it is
  /// looked up again).
  std::optional<Lookup> restore(Signal s, const std::string& entity, const CacheGet& get, Timestamp now);
  /// Whether restore() would find the answer in memory (a block's store reads leave it out).
  bool kept(std::string_view entity, Signal s);

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
  // A kept answer: what the store holds of it (its status, from_cache and run are in Settled).
  struct Kept {
    std::uint64_t hash = 0;  // 0: none
    std::string entity;
    Signal signal = Signal::kCompanyOverview;
    std::uint32_t source = 0;  // index in sources_
    Timestamp fetched_at;
    Timestamp until;
    SignalValue value;
  };
  void keep(Lookup& lookup, std::uint64_t hash, Timestamp until);
  /// The kept answer of (entity, s), or nullptr.
  Kept* find_kept(std::string_view entity, Signal s, std::uint64_t hash);
  Lookup& slot(std::uint32_t i) const { return *slots_[i]; }
  /// The slot holding (entity, s), or nullopt.
  std::optional<std::uint32_t> locate(std::string_view entity, Signal s, std::uint64_t hash);
  std::uint32_t run_index(const std::string& run_id);
  std::string_view run_id(std::uint32_t index) const;

  // One allocation per lookup, freed when it settles: with a store the memory goes back at once
  // (slots allocated in blocks stayed at the run's peak of lookups in flight for good).
  std::vector<std::unique_ptr<Lookup>> slots_;  // null: free
  std::vector<std::uint32_t> free_;             // slots to use again
  FlatHashMap64<std::uint32_t> index_;     // lookup_hash -> slot
  // A key whose 64-bit hash another live lookup already holds (all but never): kept by its
  // full key, so a collision costs speed, never a wrong answer.
  std::unordered_map<std::string, std::uint32_t> collided_;
  FlatHashMap64<Settled> settled_;
  // The pipe0 run ids settled lookups came from (a million-lead file makes some 80,000 runs),
  // end to end in one string: id i (from 1) ends at run_id_ends_[i - 1]. A string and a map
  // node per id cost about 100 bytes each.
  std::string run_ids_;
  std::vector<std::size_t> run_id_ends_;
  // Kept answers in a ring (the oldest is replaced), found by hash.
  std::size_t kept_;
  std::vector<Kept> kept_ring_;
  std::size_t kept_next_ = 0;
  FlatHashMap64<std::uint32_t> kept_index_;  // lookup_hash -> position in kept_ring_
  std::vector<std::string> sources_;         // the few distinct sources (pipe ids) answers name
};

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_LOOKUP_TABLE_H_
