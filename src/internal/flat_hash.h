// Open-addressing tables keyed by 64-bit hashes, for what a run remembers per distinct company,
// person or lookup over a whole file (a million-lead file: about two million keys). Keys and
// values live in two arrays up to three quarters full, so a set costs 11-21 bytes per key and a
// map of 4-byte values half as much again, where std::unordered_set / map spend about 40 bytes
// per element on nodes and buckets.
#ifndef LEADENRICH_INTERNAL_FLAT_HASH_H_
#define LEADENRICH_INTERNAL_FLAT_HASH_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>

#include "internal/page_array.h"

namespace leadenrich::internal {

/// A map from 64-bit keys (hashes) to small values. Not synchronised.
template <typename V>
class FlatHashMap64 {
  static constexpr bool kSet = std::is_empty_v<V>;  // a set keeps no values at all

 public:
  std::size_t size() const { return size_ + (zero_ ? 1 : 0); }
  bool empty() const { return size() == 0; }

  /// The value of `key`, or nullptr. Valid until the next insertion or erase.
  V* find(std::uint64_t key) {
    if (key == 0) return zero_ ? &*zero_ : nullptr;
    if (keys_.empty()) return nullptr;
    for (std::size_t i = home(key);; i = next(i)) {
      if (keys_[i] == 0) return nullptr;
      if (keys_[i] == key) return &value(i);
    }
  }

  /// The value of `key`, inserted as V() if absent.
  V& operator[](std::uint64_t key) {
    if (key == 0) {
      if (!zero_) zero_.emplace();
      return *zero_;
    }
    if ((size_ + 1) * 4 > keys_.size() * 3) grow();
    for (std::size_t i = home(key);; i = next(i)) {
      if (keys_[i] == 0) {
        keys_[i] = key;
        value(i) = V();
        ++size_;
        return value(i);
      }
      if (keys_[i] == key) return value(i);
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
    if (keys_.empty()) return false;
    std::size_t i = home(key);
    while (keys_[i] != 0 && keys_[i] != key) i = next(i);
    if (keys_[i] == 0) return false;
    for (std::size_t j = next(i); keys_[j] != 0; j = next(j)) {
      // Slot j may fill the gap at i unless its home lies cyclically in (i, j].
      std::size_t h = home(keys_[j]);
      bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
      if (stays) continue;
      keys_[i] = keys_[j];
      value(i) = std::move(value(j));
      i = j;
    }
    keys_[i] = 0;
    value(i) = V();
    --size_;
    return true;
  }

 private:
  // Keys are hashes already, but a weak one (an identity hash) would cluster: mix them.
  std::size_t home(std::uint64_t key) const {
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    return static_cast<std::size_t>(key) & (keys_.size() - 1);
  }
  std::size_t next(std::size_t i) const { return (i + 1) & (keys_.size() - 1); }

  V& value(std::size_t i) {
    if constexpr (kSet) {
      (void)i;
      return none_;
    } else {
      return values_[i];
    }
  }

  // Keys are moved in the old array's order, so the new array fills from two fronts (a key's
  // new home is its old one or that plus the old size) while the old one empties from the
  // start and is released behind the move (PageArray).
  void grow() {
    PageArray<std::uint64_t> old_keys = std::move(keys_);
    PageArray<V> old_values = std::move(values_);
    std::size_t n = old_keys.empty() ? 16 : old_keys.size() * 2;
    keys_ = PageArray<std::uint64_t>(n);
    if constexpr (!kSet) values_ = PageArray<V>(n);
    size_ = 0;
    constexpr std::size_t kReleaseEvery = 1 << 16;
    for (std::size_t i = 0; i < old_keys.size(); ++i) {
      if (i % kReleaseEvery == 0) {
        old_keys.release_before(i);
        if constexpr (!kSet) old_values.release_before(i);
      }
      if (old_keys[i] == 0) continue;
      if constexpr (kSet) {
        (*this)[old_keys[i]];
      } else {
        (*this)[old_keys[i]] = std::move(old_values[i]);
      }
    }
  }

  // Keys and values in separate arrays: a 4-byte value costs 12 bytes a slot, not 16.
  PageArray<std::uint64_t> keys_;  // a power of two in size, or empty; 0: free
  PageArray<V> values_;            // beside keys_; empty for a set
  [[no_unique_address]] V none_{};
  std::size_t size_ = 0;  // used slots
  std::optional<V> zero_;  // key 0 itself
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
