// The pipe0 half of the sandbox (contracts/pipe0.md): run/sync, run, check, cancel, validate
// and the credit balance, with capacity headers, a request-rate limit, billing and the faults
// that only pipe0 has (408 on sync runs, provider errors per record). Not installed.
#ifndef LEADENRICH_TESTING_PIPE0_EMULATOR_H_
#define LEADENRICH_TESTING_PIPE0_EMULATOR_H_

#include <httplib.h>

#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "leadenrich/json.h"
#include "testing/sandbox_guards.h"

namespace leadenrich::internal {

class Pipe0Emulator {
 public:
  explicit Pipe0Emulator(SandboxShared& shared) : shared_(shared) {}
  Pipe0Emulator(const Pipe0Emulator&) = delete;
  Pipe0Emulator& operator=(const Pipe0Emulator&) = delete;

  void add_routes(httplib::Server& server);
  /// Forgets what was billed, so repeated billing counts afresh (with the counters reset).
  void forget_billing() { billed_keys_.clear(); }  // shared.mu held
  /// Records admitted and not yet finished (shared.mu held): what a process killed now leaves
  /// unpaid-for in flight, at most.
  std::size_t records_in_flight() const { return in_flight_; }

 private:
  using Steady = std::chrono::steady_clock;
  using milliseconds = std::chrono::milliseconds;

  struct StoredRun {
    std::string id;
    std::vector<std::string> pipes;
    Json::Array input;           // the records as sent
    Steady::time_point created;
    Steady::time_point completes;
    std::size_t records = 0;
    bool settled = false;        // finished: billed and out of flight
    bool canceled = false;
    Json result;                 // the completed run object
    std::set<std::pair<std::size_t, std::size_t>> provider_errors;  // (record, pipe) answered failed
  };

  milliseconds service_time(std::size_t records);  // shared.mu held
  void settle(Steady::time_point now);  // shared.mu held
  void bill(const StoredRun& run);  // shared.mu held
  /// The run `id` after settling what is due, or null after answering 404. shared.mu held.
  StoredRun* find_run(const std::string& id, Steady::time_point now, httplib::Response& res);
  void admit(std::size_t records);  // shared.mu held
  void capacity_headers(httplib::Response& res);  // shared.mu held
  /// The run object, with every record's inputs echoed and each pipe's fields.
  Json run_object(const std::string& id, std::string_view status, const StoredRun& run, bool with_results);
  /// Validates a run payload the way pipe0 does. On success fills `run`.
  std::optional<Json> validate(const std::string& body, StoredRun& run);
  bool rate_limited(httplib::Response& res);
  /// Every pipe0 call: counted, authorised, rate-limited, and exposed to the injected faults
  /// when `inject_faults`. False when the response is already decided.
  bool pipe0_guard(const httplib::Request& req, httplib::Response& res, std::string_view endpoint, bool inject_faults);
  /// POST run/sync, run, validate.
  void handle_run(const httplib::Request& req, httplib::Response& res, std::string_view mode);
  void handle_check(const httplib::Request& req, httplib::Response& res);
  void handle_cancel(const httplib::Request& req, httplib::Response& res);

  SandboxShared& shared_;
  // Guarded by shared_.mu.
  std::unordered_set<std::string> billed_keys_;
  std::unordered_map<std::string, StoredRun> runs_;
  std::size_t in_flight_ = 0;
  std::deque<Steady::time_point> window_;  // pipe0 request times in the last minute
};

}  // namespace leadenrich::internal

#endif  // LEADENRICH_TESTING_PIPE0_EMULATOR_H_
