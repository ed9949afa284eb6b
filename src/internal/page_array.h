// Arrays for the large tables a run grows over a whole file (distinct keys, settled lookups,
// lead ids): from a MiB up they are mapped from the kernel and handed back to it as soon as they
// are freed. Through malloc, a table's old array, freed when the table doubles, stays in the
// process's memory for as long as the heap cannot return it, and raises the peak of a
// million-lead stream by several MiB.
#ifndef LEADENRICH_INTERNAL_PAGE_ARRAY_H_
#define LEADENRICH_INTERNAL_PAGE_ARRAY_H_

#include <sys/mman.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace leadenrich::internal {

/// A fixed-size array of zeroed T (trivially copyable) for the tables' slots. From 1 MiB up it is
/// mapped from the kernel: its pages are zero and take no memory until written, and they go
/// back at once when the array is freed or a range of it released. A table that doubles fills
/// its new array as it empties the old one and releases the old one behind it, so the peak of a
/// doubling is about the new array alone, not the old and the new side by side.
template <typename T>
class PageArray {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  static constexpr std::size_t kMappedFrom = std::size_t{1} << 20;

  PageArray() = default;
  explicit PageArray(std::size_t n) : size_(n) {
    if (n == 0) return;
    if (mapped()) {
      void* p = ::mmap(nullptr, bytes(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) throw std::bad_alloc();
      data_ = static_cast<T*>(p);
    } else {
      data_ = static_cast<T*>(std::calloc(n, sizeof(T)));
      if (data_ == nullptr) throw std::bad_alloc();
    }
  }
  PageArray(const PageArray&) = delete;
  PageArray& operator=(const PageArray&) = delete;
  PageArray(PageArray&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)), released_(std::exchange(o.released_, 0)) {}
  PageArray& operator=(PageArray&& o) noexcept {
    if (this != &o) {
      free();
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
      released_ = std::exchange(o.released_, 0);
    }
    return *this;
  }
  ~PageArray() { free(); }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T& operator[](std::size_t i) { return data_[i]; }
  const T& operator[](std::size_t i) const { return data_[i]; }

  /// Gives the whole pages of elements [0, end) back to the kernel (they read as zero after);
  /// nothing for an array from the heap. Pages given back by an earlier call are not asked again.
  void release_before(std::size_t end) {
    if (!mapped()) return;
    constexpr std::uintptr_t kPage = 4096;
    auto base = reinterpret_cast<std::uintptr_t>(data_);
    std::uintptr_t last = (base + std::min(end, size_) * sizeof(T)) & ~(kPage - 1);
    std::uintptr_t first = base + released_;
    if (last <= first) return;
    ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
    released_ = last - base;
  }

 private:
  std::size_t bytes() const { return size_ * sizeof(T); }
  bool mapped() const { return bytes() >= kMappedFrom; }
  void free() {
    if (data_ == nullptr) return;
    if (mapped()) {
      ::munmap(data_, bytes());
    } else {
      std::free(data_);
    }
    data_ = nullptr;
    size_ = 0;
    released_ = 0;
  }

  T* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t released_ = 0;  // bytes from the start given back (a whole number of pages)
};

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_PAGE_ARRAY_H_
