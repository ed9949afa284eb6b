#include "internal/server_metrics.h"

#include <fmt/format.h>

namespace leadenrich::internal {

void ServerMetrics::request(const std::string& method, const std::string& route, int status,
                            std::chrono::nanoseconds took) {
  double seconds = std::chrono::duration<double>(took).count();
  std::lock_guard lock(mu_);
  ++requests_[{route, method, status}];
  Histogram& h = latency_[route];
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
}

void ServerMetrics::upstream_error(const std::string& api, const std::string& code) {
  std::lock_guard lock(mu_);
  ++upstream_errors_[{api, code}];
}

void ServerMetrics::enriched(const EnrichedLead& lead) {
  std::lock_guard lock(mu_);
  ++leads_enriched_;
  billed_ += static_cast<std::uint64_t>(std::max(0, lead.billed_lookups));
  for (Signal s : kAllSignals) {
    const SignalResult& r = lead.result(s);
    auto i = static_cast<std::size_t>(s);
    if (r.from_cache) {
      ++cache_hits_[i];
    } else if (r.status == SignalStatus::kFound || r.status == SignalStatus::kNoResult ||
               r.status == SignalStatus::kFailed) {
      ++lookups_[i];
    }
  }
}

void ServerMetrics::in_flight(int delta) {
  std::lock_guard lock(mu_);
  in_flight_ += delta;
}

std::string ServerMetrics::render(std::uint64_t shared_lookups) const {
  std::lock_guard lock(mu_);
  std::string out;
  auto header = [&](std::string_view name, std::string_view type, std::string_view help) {
    fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  };
  header("leadenrich_http_requests_total", "counter", "HTTP requests answered, by route, method and status.");
  for (const auto& [key, n] : requests_) {
    const auto& [route, method, status] = key;
    fmt::format_to(std::back_inserter(out), "leadenrich_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{}\"}} {}\n",
                   route, method, status, n);
  }
  header("leadenrich_http_request_duration_seconds", "histogram", "Time to answer a request, by route.");
  for (const auto& [route, h] : latency_) {
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      fmt::format_to(std::back_inserter(out), "leadenrich_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n",
                     route, kBuckets[i], h.buckets[i]);
    }
    fmt::format_to(std::back_inserter(out),
                   "leadenrich_http_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n"
                   "leadenrich_http_request_duration_seconds_sum{{route=\"{}\"}} {}\n"
                   "leadenrich_http_request_duration_seconds_count{{route=\"{}\"}} {}\n",
                   route, h.count, route, h.sum, route, h.count);
  }
  header("leadenrich_http_requests_in_flight", "gauge", "Requests being answered now.");
  fmt::format_to(std::back_inserter(out), "leadenrich_http_requests_in_flight {}\n", in_flight_);
  header("leadenrich_upstream_errors_total", "counter", "Failed calls to Aturiya or pipe0, by API and error code.");
  for (const auto& [key, n] : upstream_errors_) {
    fmt::format_to(std::back_inserter(out), "leadenrich_upstream_errors_total{{api=\"{}\",code=\"{}\"}} {}\n", key.first,
                   key.second, n);
  }
  header("leadenrich_leads_enriched_total", "counter", "Leads enriched (single and batch).");
  fmt::format_to(std::back_inserter(out), "leadenrich_leads_enriched_total {}\n", leads_enriched_);
  header("leadenrich_lookups_total", "counter", "Signal lookups sent to pipe0, by signal.");
  for (Signal s : kAllSignals) {
    fmt::format_to(std::back_inserter(out), "leadenrich_lookups_total{{signal=\"{}\"}} {}\n", to_string(s),
                   lookups_[static_cast<std::size_t>(s)]);
  }
  header("leadenrich_cache_hits_total", "counter", "Signals answered from the store, by signal.");
  for (Signal s : kAllSignals) {
    fmt::format_to(std::back_inserter(out), "leadenrich_cache_hits_total{{signal=\"{}\"}} {}\n", to_string(s),
                   cache_hits_[static_cast<std::size_t>(s)]);
  }
  header("leadenrich_billed_lookups_total", "counter", "Lookups pipe0 bills (an output completed).");
  fmt::format_to(std::back_inserter(out), "leadenrich_billed_lookups_total {}\n", billed_);
  header("leadenrich_coalesced_waits_total", "counter",
         "Lookups a request took from another request's lookup in flight instead of making its own.");
  fmt::format_to(std::back_inserter(out), "leadenrich_coalesced_waits_total {}\n", shared_lookups);
  return out;
}

}  // namespace leadenrich::internal
