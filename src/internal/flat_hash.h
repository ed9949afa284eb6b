// Open-addressing tables keyed by 64-bit hashes, for what a run remembers per distinct company,
// person or lookup over a whole file (a million-lead file: about two million keys). A slot is
// the key and the value side by side and the table is up to three quarters full, so a set costs
// 11-21 bytes per key and a map of 8-byte values twice that, where std::unordered_set / map
// spend about 40 bytes per element on nodes and buckets.
#ifndef LEADENRICH_INTERNAL_FLAT_HASH_H_
#define LEADENRICH_INTERNAL_FLAT_HASH_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "internal/page_allocator.h"

namespace leadenrich::internal {

/// A map from 64-bit keys (hashes) to small values. Not synchronised.
template <typename V>
class FlatHashMap64 {
 public:
  std::size_t size() const { return size_ + (zero_ ? 1 : 0); }
  bool empty() const { return size() == 0; }

  /// The value of `key`, or nullptr. Valid until the next insertion or erase.
  V* find(std::uint64_t key) {
    if (key == 0) return zero_ ? &*zero_ : nullptr;
    if (slots_.empty()) return nullptr;
    for (std::size_t i = home(key);; i = next(i)) {
      Slot& s = slots_[i];
      if (s.key == 0) return nullptr;
      if (s.key == key) return &s.value;
    }
  }

  /// The value of `key`, inserted as V() if absent.
  V& operator[](std::uint64_t key) {
    if (key == 0) {
      if (!zero_) zero_.emplace();
      return *zero_;
    }
    if ((size_ + 1) * 4 > slots_.size() * 3) grow();
    for (std::size_t i = home(key);; i = next(i)) {
      Slot& s = slots_[i];
      if (s.key == 0) {
        s.key = key;
        s.value = V();
        ++size_;
        return s.value;
      }
      if (s.key == key) return s.value;
    }
  }

  /// Removes `key`; false if it was absent. Later keys of its probe run move back into the gap,
  /// so no tombstones pile up in a table that is filled and emptied all run long.
  bool erase(std::uint64_t key) {
    if (key == 0) {
      bool had = zero_.has_value();
      zero_.reset();
      return had;
    }
    if (slots_.empty()) return false;
    std::size_t i = home(key);
    while (slots_[i].key != 0 && slots_[i].key != key) i = next(i);
    if (slots_[i].key == 0) return false;
    for (std::size_t j = next(i); slots_[j].key != 0; j = next(j)) {
      // Slot j may fill the gap at i unless its home lies cyclically in (i, j].
      std::size_t h = home(slots_[j].key);
      bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
      if (stays) continue;
      slots_[i] = std::move(slots_[j]);
      i = j;
    }
    slots_[i] = Slot{};
    --size_;
    return true;
  }

 private:
  struct Slot {
    std::uint64_t key = 0;  // 0: empty (key 0 itself lives in zero_)
    [[no_unique_address]] V value{};  // a set's empty value takes no room
  };

  // Keys are hashes already, but a weak one (an identity hash) would cluster: mix them.
  std::size_t home(std::uint64_t key) const {
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    return static_cast<std::size_t>(key) & (slots_.size() - 1);
  }
  std::size_t next(std::size_t i) const { return (i + 1) & (slots_.size() - 1); }

  void grow() {
    std::vector<Slot, PageAllocator<Slot>> old = std::move(slots_);
    slots_.assign(old.empty() ? 16 : old.size() * 2, Slot{});
    size_ = 0;
    for (Slot& s : old) {
      if (s.key != 0) (*this)[s.key] = std::move(s.value);
    }
  }

  std::vector<Slot, PageAllocator<Slot>> slots_;  // a power of two in size, or empty
  std::size_t size_ = 0;     // used slots
  std::optional<V> zero_;
};

/// A set of 64-bit keys (hashes). Not synchronised.
class FlatHashSet64 {
 public:
  /// True when `key` was not there yet.
  bool insert(std::uint64_t key) {
    std::size_t before = map_.size();
    map_[key];
    return map_.size() != before;
  }
  bool contains(std::uint64_t key) { return map_.find(key) != nullptr; }
  std::size_t size() const { return map_.size(); }

 private:
  struct Nothing {};
  FlatHashMap64<Nothing> map_;
};

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_FLAT_HASH_H_
