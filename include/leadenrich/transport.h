// HTTP as plain values, behind an interface: libcurl in production, fakes in tests.
#ifndef LEADENRICH_TRANSPORT_H_
#define LEADENRICH_TRANSPORT_H_

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "leadenrich/status.h"

namespace leadenrich {

/// Header names compare case-insensitively; order is kept.
struct HttpHeaders {
  std::vector<std::pair<std::string, std::string>> items;

  /// The first value of `name`, or nullopt.
  std::optional<std::string> get(std::string_view name) const;
  void add(std::string name, std::string value) { items.emplace_back(std::move(name), std::move(value)); }
  /// Replaces every value of `name` with one.
  void set(std::string name, std::string value);
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  HttpHeaders headers;
  std::string body;
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds total_timeout{60'000};
};

/// A response that arrived, whatever its status: a 404 is a successful transport call.
struct HttpResponse {
  int status = 0;
  HttpHeaders headers;
  std::string body;
};

/// How a request that got no response failed. Decides whether re-sending is safe.
enum class TransportFailure {
  kNone,
  kNotSent,      ///< provably never reached the server: DNS, connection refused, TLS setup
  kTimeout,      ///< timed out; the server may have processed it
  kConnectionLost,  ///< reset or closed after (part of) the request went out
  kCancelled,
};

/// The outcome of one exchange: a response, or a Status (kUnavailable, kDeadlineExceeded,
/// kCancelled) with the failure kind.
struct HttpOutcome {
  Result<HttpResponse> response = Status(StatusCode::kUnknown, "no response");
  TransportFailure failure = TransportFailure::kNone;
};

/// Sends HTTP requests. Implementations are thread-safe: many threads may call send() at once,
/// and send_async() keeps many requests in flight without a thread per request.
class HttpTransport {
 public:
  virtual ~HttpTransport() = default;

  /// Sends one request and waits for its outcome.
  virtual HttpOutcome send(const HttpRequest& request) = 0;

  /// Starts a request; `done` is called exactly once with its outcome, on a transport thread.
  /// `done` must not block for long.
  virtual void send_async(HttpRequest request, std::function<void(HttpOutcome)> done) = 0;
};

struct CurlTransportOptions {
  std::string user_agent;       ///< default "leadenrich/<version>"
  bool verify_tls = true;
  int max_connections_per_host = 32;
  /// The largest response body read into memory (after decompression); a larger one fails the
  /// exchange with an error naming the host and this limit. 0 means no limit.
  std::size_t max_response_bytes = std::size_t{64} << 20;
};

/// The libcurl transport: one event loop thread driving a curl multi handle, connection reuse,
/// TLS verification on. Thread-safe.
std::shared_ptr<HttpTransport> make_curl_transport(const CurlTransportOptions& options = {});

}  // namespace leadenrich

#endif  // LEADENRICH_TRANSPORT_H_
