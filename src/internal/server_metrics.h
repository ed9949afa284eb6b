// The server's Prometheus metrics: requests and latency by route, upstream errors, and what
// enrichments cost (lookups, cache hits, billed lookups, lookups shared between requests). Thread-safe.
#ifndef LEADENRICH_INTERNAL_SERVER_METRICS_H_
#define LEADENRICH_INTERNAL_SERVER_METRICS_H_

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "leadenrich/lead.h"

namespace leadenrich::internal {

class ServerMetrics {
 public:
  /// Upper bounds of the latency histogram's buckets, in seconds.
  static constexpr std::array<double, 12> kBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                   0.05,   0.1,   0.25,   0.5,   1.0,  5.0};

  void request(const std::string& method, const std::string& route, int status, std::chrono::nanoseconds took);
  /// An upstream call that failed: api is "aturiya" or "pipe0", code a StatusCode name.
  void upstream_error(const std::string& api, const std::string& code);
  /// What one enriched lead cost: lookups sent per signal, cache hits, billed lookups.
  void enriched(const EnrichedLead& lead);
  /// A request that waited for another's lookup of the same company instead of making its own.
  void in_flight(int delta);

  /// Prometheus text exposition format, version 0.0.4.
  /// `shared_lookups`: the Enricher's count of lookups one request took from another's flight.
  std::string render(std::uint64_t shared_lookups) const;

 private:
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> buckets{};
    std::uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> upstream_errors_;
  std::array<std::uint64_t, kSignalCount> lookups_{};
  std::array<std::uint64_t, kSignalCount> cache_hits_{};
  std::uint64_t billed_ = 0;
  std::uint64_t leads_enriched_ = 0;
  std::int64_t in_flight_ = 0;
};

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_SERVER_METRICS_H_
