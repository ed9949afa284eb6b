// An allocator for the large tables a run grows over a whole file (distinct keys, settled
// lookups, lead ids): arrays of a MiB or more are mapped from the kernel and handed back to it
// as soon as they are freed. Through malloc, a table's old array, freed when the table doubles,
// stays in the process's memory for as long as the heap cannot return it, and raises the peak
// of a million-lead stream by several MiB.
#ifndef LEADENRICH_INTERNAL_PAGE_ALLOCATOR_H_
#define LEADENRICH_INTERNAL_PAGE_ALLOCATOR_H_

#include <sys/mman.h>

#include <cstddef>
#include <memory>
#include <new>

namespace leadenrich::internal {

template <typename T>
class PageAllocator {
 public:
  using value_type = T;
  static constexpr std::size_t kMappedFrom = std::size_t{1} << 20;

  PageAllocator() = default;
  template <typename U>
  PageAllocator(const PageAllocator<U>&) {}  // NOLINT(google-explicit-constructor): allocators convert

  T* allocate(std::size_t n) {
    std::size_t bytes = n * sizeof(T);
    if (bytes < kMappedFrom) return std::allocator<T>{}.allocate(n);
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    return static_cast<T*>(p);
  }

  void deallocate(T* p, std::size_t n) {
    std::size_t bytes = n * sizeof(T);
    if (bytes < kMappedFrom) return std::allocator<T>{}.deallocate(p, n);
    ::munmap(p, bytes);
  }

  template <typename U>
  bool operator==(const PageAllocator<U>&) const {
    return true;
  }
};

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_PAGE_ALLOCATOR_H_
