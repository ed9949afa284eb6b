// What the sandbox's two emulators share: options, the fault dice, counters, the bearer check
// and the answers every endpoint may give before doing its own work. Built with cpp-httplib;
// not installed.
#ifndef LEADENRICH_TESTING_SANDBOX_GUARDS_H_
#define LEADENRICH_TESTING_SANDBOX_GUARDS_H_

#include <httplib.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "leadenrich/json.h"
#include "leadenrich/testing/sandbox.h"

namespace leadenrich::internal {

/// A pipe0 problem document (RFC 9457) with the contract's type URL.
Json problem(int status, std::string_view slug, std::string_view title, std::string detail);
/// Aturiya's response envelope.
Json envelope(int code, std::string_view message, Json data);
/// Sets `body` as the response, JSON with a charset.
void send_json(httplib::Response& res, int status, const Json& body);

/// State both emulators use; `mu` guards the mutable parts (and each emulator's own state).
struct SandboxShared {
  SandboxOptions options;
  mutable std::mutex mu;
  SandboxFaults faults;
  SandboxCounters counters;
  std::uint64_t rolls = 0;

  /// A uniform number in [0, 1) from the seed and the roll count: the same sequence every run.
  double roll();  // mu held
  /// Counts one request to `endpoint`.
  void count(const std::string& endpoint);
  /// A non-empty bearer key, and the required one when the options name it.
  bool authorized(const httplib::Request& req) const;
  /// Faults that strike before any processing (503, 429, a dropped connection). True when the
  /// response is decided.
  bool pre_fault(httplib::Response& res, bool pipe0);
  /// Cuts the body in half when that fault strikes.
  void maybe_truncate(httplib::Response& res);
};

}  // namespace leadenrich::internal

#endif  // LEADENRICH_TESTING_SANDBOX_GUARDS_H_
