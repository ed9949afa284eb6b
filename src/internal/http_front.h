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
  /// write_timeout bounds each flush(): a client that stops reading loses its answer then.
  FrontStream(int fd, std::string_view request, std::chrono::milliseconds write_timeout)
      : fd_(fd), request_(request), write_timeout_(write_timeout) {}
  bool is_readable() const override { return pos_ < request_.size(); }
  bool is_writable() const override;
  ssize_t read(char* ptr, std::size_t size) override;
  ssize_t write(const char* ptr, std::size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  int socket() const override { return fd_; }
  /// Sends what the parser wrote. The answer is held until then so the server's after-response
  /// step (log line, metrics) has run before the client can see it and ask /metrics.
  bool flush();
  /// Sends `bytes` now, as part of a response the handler writes itself (stream_current_response).
  bool send_streamed(std::string_view bytes);

 private:
  int fd_;
  std::string_view request_;
  std::size_t pos_ = 0;
  std::string out_;
  bool failed_ = false;
  bool streamed_ = false;  ///< the handler wrote the response: the parser's own is dropped
  std::chrono::milliseconds write_timeout_;
};

/// On a worker answering a request, for a handler that streams its answer as it goes (server-sent
/// events carrying progress): sends `bytes` — the status line and headers first, then the body's
/// chunks — to the client at once. The handler's bytes are then the whole response: what the
/// parser writes after the handler returns is dropped (its log line and metrics still run).
/// cpp-httplib's own content providers cannot serve here: they stop at once when its accept loop
/// is not running, and the front has its own. False when the client is gone or does not read (the
/// handler should stop), or when not called on a front's worker.
bool stream_current_response(std::string_view bytes);

/// The chunked form of stream_current_response, for handlers that stream JSON lines or events:
/// the head is `res`'s status and headers (set Content-Type and the rest on `res` first; CORS and
/// session headers set before routing come along), then each chunk as it is ready, then the end.
/// Each is false once the client is gone (the handler should stop).
bool stream_current_head(const httplib::Response& res);
bool stream_current_chunk(std::string_view data);
bool end_current_stream();

/// Reads the requests of one connection as their bytes arrive, without a socket: finds the end of
/// the head, checks the framing, decodes chunked bodies, and refuses what is malformed or over a
/// limit as soon as it is seen. A complete request comes out in one framing (Content-Length) for
/// the parser behind, so chunked bodies meet the same limit and no request can be read two ways.
class RequestReader {
 public:
  enum class Phase { kIdle, kHead, kBody };
  enum class Progress { kWait, kReady, kRefused };
  struct Refusal {
    int status = 0;
    std::string reason;   ///< the status line's words
    std::string code;     ///< the error code of the JSON answer
    std::string message;  ///< its message
  };

  RequestReader(std::size_t max_head_bytes, std::size_t max_body_bytes)
      : max_head_(max_head_bytes), max_body_(max_body_bytes) {}

  /// Takes from the front of `in` what belongs to the request under way; bytes after a complete
  /// request (pipelined) stay in `in`. kReady: take_request(); kRefused: refusal().
  Progress feed(std::string& in);
  /// The complete request; the reader is then ready for the next one.
  std::string take_request();
  const Refusal& refusal() const { return refusal_; }
  /// True once per request whose client waits for "100 Continue" before sending its body.
  bool take_continue();
  Phase phase() const { return phase_; }
  /// Of the request under way, as received ("" before its request line).
  const std::string& method() const { return method_; }
  const std::string& path() const { return path_; }

 private:
  enum class Chunk { kSize, kData, kDataEnd, kTrailer, kDone };
  Progress parse_head(std::string& in, std::size_t end);
  Progress decode_chunks(std::string& in);
  Progress refuse(int status, std::string_view reason, std::string_view code, std::string message);
  Progress bad(std::string_view message) { return refuse(400, "Bad Request", "bad_request", std::string(message)); }
  Progress too_large();

  std::size_t max_head_;
  std::size_t max_body_;
  Phase phase_ = Phase::kIdle;
  std::string method_;
  std::string path_;
  std::string head_;  ///< request line and headers, without the framing ones
  bool chunked_ = false;
  std::size_t content_length_ = 0;
  std::string body_;
  Chunk chunk_ = Chunk::kSize;
  std::size_t chunk_left_ = 0;
  bool continue_ = false;
  std::string request_;
  Refusal refusal_;
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
