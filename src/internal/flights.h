// Coalesces concurrent work on the same key: the first caller for a key flies, later callers wait
// for it to land and then go on (finding its results in the store) instead of repeating it.
#ifndef LEADENRICH_INTERNAL_FLIGHTS_H_
#define LEADENRICH_INTERNAL_FLIGHTS_H_

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace leadenrich::internal {

class Flights {
 public:
  /// The keys a caller flies; they land when it is destroyed. Move-only.
  class Ticket {
   public:
    Ticket() = default;
    Ticket(Ticket&& other) noexcept;
    Ticket& operator=(Ticket&& other) noexcept;
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    ~Ticket();
    /// Keys this caller waited for because another caller was flying them.
    std::size_t waited() const { return waited_; }

   private:
    friend class Flights;
    void land();
    Flights* flights_ = nullptr;
    std::vector<std::string> owned_;
    std::size_t waited_ = 0;
  };

  /// For each distinct key, in sorted order: when another caller flies it, waits until it lands
  /// (and does not fly it after); otherwise flies it. A caller waits only for keys greater than
  /// every key it flies, so no two callers can wait for each other.
  Ticket board(std::vector<std::string> keys);

 private:
  std::mutex mu_;
  std::condition_variable landed_;
  /// Key -> the id of the flight flying it (a waiter waits for that flight, not a later one).
  std::unordered_map<std::string, std::uint64_t> flying_;
  std::uint64_t next_id_ = 0;
};

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_FLIGHTS_H_
