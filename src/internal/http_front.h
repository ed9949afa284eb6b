// The server's connection front: one thread owns the listening socket and every connection that is
// not being answered, reads requests without blocking until each is complete (head and body, within
// the limits and deadlines), and only then hands it to a worker. So idle keep-alive connections,
// clients that drip their request a byte at a time and oversized bodies (in any framing) never
// hold a worker; a connection cap sheds the oldest idle connections first; stop() drains.
//
// cpp-httplib 0.11 gives each connection a worker for its whole life (keep-alive waits included)
// and reads bodies sent with Transfer-Encoding: chunked without any limit, which locked the
// server out and let a chunked body grow it without bound. Here it only parses and answers one
// complete request at a time, from memory (FrontStream), on a worker of ours.
#ifndef LEADENRICH_INTERNAL_HTTP_FRONT_H_
#define LEADENRICH_INTERNAL_HTTP_FRONT_H_

#include <httplib.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "leadenrich/status.h"

namespace leadenrich::internal {

struct FrontOptions {
  std::string host = "127.0.0.1";
  int port = 0;  ///< 0 picks a free port
  int workers = 32;
  /// Open connections at most; at the cap the oldest idle one is closed for a new one, then the
  /// oldest one still sending its request; with neither, the new one gets 503.
  std::size_t max_connections = 512;
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_head_bytes = 64 << 10;
  /// From the first byte of a request to the end of its head, and to the end of its body.
  std::chrono::milliseconds head_timeout{10'000};
  std::chrono::milliseconds request_timeout{30'000};
  /// A connection with no request under way is closed after this long.
  std::chrono::milliseconds idle_timeout{30'000};
  /// Writing one response, at most.
  std::chrono::milliseconds write_timeout{10'000};
  /// stop(): how long requests already received may still be answered; the rest get 503.
  std::chrono::milliseconds drain_timeout{10'000};
};

/// A request the front answered itself (too large, too slow, malformed, or while stopping), for
/// the log and the metrics. method and path are as received (path without the query), possibly
/// empty when the request line never arrived.
struct FrontRefusal {
  std::string method;
  std::string path;
  int status = 0;
};

/// One complete request, in memory, as httplib::Server::process_request reads it; the response
/// goes to the socket, within a deadline.
class FrontStream final : public httplib::Stream {
 public:
  FrontStream(int fd, std::string_view request, std::chrono::steady_clock::time_point write_deadline)
      : fd_(fd), request_(request), write_deadline_(write_deadline) {}
  bool is_readable() const override { return pos_ < request_.size(); }
  bool is_writable() const override;
  ssize_t read(char* ptr, std::size_t size) override;
  ssize_t write(const char* ptr, std::size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  int socket() const override { return fd_; }

 private:
  int fd_;
  std::string_view request_;
  std::size_t pos_ = 0;
  std::chrono::steady_clock::time_point write_deadline_;
};

class HttpFront {
 public:
  /// Answers one request read from the stream; returns whether the connection may carry another.
  /// close_connection: the response must close it (the server is stopping).
  using Serve = std::function<bool(httplib::Stream& stream, bool close_connection)>;
  using Refused = std::function<void(const FrontRefusal&)>;

  /// Binds and starts the front thread and the workers. kUnavailable when it cannot bind.
  static Result<std::unique_ptr<HttpFront>> start(FrontOptions options, Serve serve, Refused refused);
  ~HttpFront();
  HttpFront(const HttpFront&) = delete;
  HttpFront& operator=(const HttpFront&) = delete;

  int port() const;
  /// Stops accepting, closes idle connections, answers 503 to requests only partly received,
  /// answers the requests already received within the drain timeout (503 with Retry-After for
  /// those still waiting for a worker then), waits for requests in progress, and returns.
  /// Idempotent and thread-safe: every caller returns once the front has stopped.
  void stop();

  struct Impl;

 private:
  explicit HttpFront(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// "GET", "POST", "HEAD", ... for the methods HTTP defines, "other" for anything else: a label
/// from a fixed set, whatever a client sends.
std::string_view method_label(std::string_view method);

/// `text` with every byte a terminal or a log reader could take for structure (control bytes
/// such as CR, LF and ESC, DEL, bytes over 0x7F, and the backslash itself) written as \xNN, so a
/// request can never forge or colour a log line.
std::string escape_for_log(std::string_view text);

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_HTTP_FRONT_H_
