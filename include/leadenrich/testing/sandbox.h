// leadenrich-sandbox: a local server speaking both the Aturiya and the pipe0 protocols, with
// deterministic synthetic data, fault knobs and counters — so everything runs with no network
// and no credentials. See docs/sandbox.md for what it emulates and where it differs.
#ifndef LEADENRICH_TESTING_SANDBOX_H_
#define LEADENRICH_TESTING_SANDBOX_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "leadenrich/config.h"
#include "leadenrich/status.h"

namespace leadenrich {

/// Faults injected into API responses (probabilities per request, 0..1).
struct SandboxFaults {
  std::chrono::milliseconds latency{0};  ///< service time of a pipe0 run (and of Aturiya GETs / 10)
  std::chrono::milliseconds jitter{0};   ///< plus up to this much, uniformly
  double p_5xx = 0;        ///< 503 before processing (nothing billed)
  double p_429 = 0;        ///< 429 org-rate-limited with Retry-After: 1
  double p_reset = 0;      ///< the connection closes before a full response
  double p_truncated = 0;  ///< 200 with the JSON body cut in half
  double p_408_sync = 0;   ///< run/sync answers 408 with the run id; the run goes on
  /// A record's pipe answers every output failed with reason ProviderError (a transient
  /// provider outage: pipe0's "retry later"); not billed. Decided once per record and pipe.
  double p_provider_error = 0;
};

struct SandboxOptions {
  std::string host = "127.0.0.1";
  int port = 0;  ///< 0 picks a free port
  std::uint64_t seed = 42;
  int campaigns = 3;
  int leads_per_campaign = 60;
  /// Accept only this bearer key for both APIs; empty accepts any non-empty key.
  std::string require_key;
  SandboxFaults faults;
  /// Records admitted at priority 1 / 2; past P1 the service slows in proportion.
  int p1_capacity = 600;
  int p2_capacity = 1200;
  /// pipe0 requests per minute before 429 org-rate-limited.
  int rate_limit_per_minute = 2000;
  /// Aturiya misbehaviours for tests: always claim a next page; ignore the campaign filter.
  bool always_next_page = false;
  bool ignore_campaign_filter = false;
  /// Worker threads (runs sleep for their latency, so this bounds concurrent sync runs).
  int threads = 64;
  /// Called with one line per request ("GET /v1/pipes/check/ID 200 3ms"); never a secret.
  std::function<void(const std::string&)> log;
};

/// What the sandbox saw. Billing follows pipe0: a record x pipe with a completed output.
struct SandboxCounters {
  std::map<std::string, std::size_t> requests;  ///< by endpoint, e.g. "pipe0 run/sync", "aturiya leads"
  std::size_t records = 0;                      ///< input records accepted in runs
  std::map<std::string, std::size_t> lookups;   ///< records x pipe accepted, by pipe id
  std::map<std::string, std::size_t> billed;    ///< billed lookups by pipe id
  std::size_t repeated_billing = 0;             ///< lookups billed again for the same pipe and input
  std::size_t peak_records_in_flight = 0;
  std::map<int, std::size_t> runs_by_priority;  ///< runs admitted, by X-Task-Priority
  std::map<std::string, std::size_t> faults;    ///< injected faults by kind
  std::size_t rate_limited = 0;                 ///< 429s from the request-rate limit

  std::size_t total_billed() const;
  std::size_t total_requests() const;
};

/// A running sandbox. Thread-safe.
class Sandbox {
 public:
  /// Starts the server (listening before it returns). kUnavailable when it cannot bind.
  static Result<std::unique_ptr<Sandbox>> start(const SandboxOptions& options = {});
  ~Sandbox();
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  /// "http://127.0.0.1:PORT": both APIs live under it.
  std::string base_url() const;
  int port() const;
  const std::string& user_id() const;
  const std::string& agent_id() const;  ///< agent_<32 hex>
  /// A key both APIs accept (the required one, or a fixed sandbox key).
  std::string api_key() const;
  /// A Config whose URLs, credentials and ids point at this sandbox.
  Config config() const;
  /// "NAME=value" lines for the six variables that point clients at this sandbox (its keys are
  /// sandbox keys, not secrets).
  std::string environment() const;

  void set_faults(const SandboxFaults& faults);
  SandboxCounters counters() const;
  void reset_counters();
  /// Stops serving; idempotent. In-flight requests finish first.
  void stop();

 private:
  struct State;  // defined where it is implemented
  explicit Sandbox(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace leadenrich

#endif  // LEADENRICH_TESTING_SANDBOX_H_
