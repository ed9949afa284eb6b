#include "internal/http_front.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace leadenrich::internal {
namespace {

using Clock = std::chrono::steady_clock;
/// Seconds a client is asked to wait (Retry-After) when the server is stopping or full.
constexpr int kRetryAfterSeconds = 5;
/// How often the front looks for connections past their deadline.
constexpr auto kSweepInterval = std::chrono::milliseconds(100);
/// Bytes read from one connection per readiness event, so one fast sender cannot starve the rest.
constexpr std::size_t kReadPerEvent = 256 << 10;
/// A chunk-size line (with extensions) longer than this is malformed.
constexpr std::size_t kMaxChunkLine = 4096;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
    if (!ok || c == '\0') return false;
  }
  return true;
}

/// Writes what the socket takes now, without waiting: for the short answers the front sends on
/// connections it is about to close.
void send_now(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string error_response(int status, std::string_view reason, std::string_view code, std::string_view message,
                           bool retry_after) {
  // code and message are the front's own words (no request bytes), so they need no JSON escaping.
  std::string body = fmt::format(R"({{"error":{{"code":"{}","message":"{}"}}}})", code, message);
  return fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\n{}"
      "Connection: close\r\n\r\n{}",
      status, reason, body.size(), retry_after ? fmt::format("Retry-After: {}\r\n", kRetryAfterSeconds) : "", body);
}

/// The stream a worker is answering on, for stream_current_response().
thread_local FrontStream* t_current_stream = nullptr;

struct Conn {
  int fd = -1;
  std::string in;  ///< received, not yet part of a request handed to a worker
  RequestReader reader;
  Clock::time_point since;  ///< idle: since the last request; otherwise: the request's first byte
  std::string method;       ///< of the request refused, for the log
  std::string path;
  std::string request;  ///< the complete request a worker answers

  Conn(int sock, std::size_t max_head, std::size_t max_body) : fd(sock), reader(max_head, max_body) {}
  bool idle() const { return reader.phase() == RequestReader::Phase::kIdle; }
};

}  // namespace

// ---- RequestReader ----

RequestReader::Progress RequestReader::refuse(int status, std::string_view reason, std::string_view code,
                                              std::string message) {
  refusal_ = Refusal{status, std::string(reason), std::string(code), std::move(message)};
  return Progress::kRefused;
}

RequestReader::Progress RequestReader::too_large() {
  return refuse(413, "Payload Too Large", "payload_too_large",
                fmt::format("request body over the limit of {} bytes", max_body_));
}

/// The head in `in` up to `end` (just past its blank line).
RequestReader::Progress RequestReader::parse_head(std::string& in, std::size_t end) {
  std::string_view text(in.data(), end - 2);  // without the blank line's CRLF
  std::size_t eol = text.find("\r\n");
  std::string_view line = text.substr(0, eol);
  std::size_t sp1 = line.find(' ');
  std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return bad("malformed request line");
  method_ = std::string(line.substr(0, sp1));
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  path_ = std::string(target.substr(0, target.find('?')));
  if (!is_token(method_)) return bad("malformed request line");

  std::string head(line);
  head += "\r\n";
  std::optional<std::string> length;
  std::vector<std::string> codings;
  bool expect_continue = false;
  std::size_t pos = eol == std::string_view::npos ? text.size() : eol + 2;
  while (pos < text.size()) {
    std::size_t next = text.find("\r\n", pos);
    if (next == std::string_view::npos) next = text.size();
    std::string_view header = text.substr(pos, next - pos);
    pos = next + 2;
    std::size_t colon = header.find(':');
    // A folded line or a name with blanks is refused: proxies may read such heads differently.
    if (colon == std::string_view::npos || !is_token(header.substr(0, colon))) return bad("malformed header");
    std::string name = lower(header.substr(0, colon));
    std::string_view value = trim(header.substr(colon + 1));
    if (name == "content-length") {
      if (value.empty() || value.find_first_not_of("0123456789") != std::string_view::npos) {
        return bad("Content-Length is not a number");
      }
      if (length && *length != value) return bad("conflicting Content-Length headers");
      length = std::string(value);
    } else if (name == "transfer-encoding") {
      std::size_t start = 0;
      while (start <= value.size()) {
        std::size_t comma = value.find(',', start);
        if (comma == std::string_view::npos) comma = value.size();
        std::string coding = lower(trim(value.substr(start, comma - start)));
        if (!coding.empty()) codings.push_back(std::move(coding));
        start = comma + 1;
      }
    } else if (name == "expect") {
      expect_continue = lower(value) == "100-continue";
    } else {
      head.append(header);
      head += "\r\n";
    }
  }
  if (!codings.empty()) {
    // Both framings at once is how requests are smuggled past proxies (RFC 9112 section 6.1).
    if (length) return bad("both Content-Length and Transfer-Encoding");
    if (codings != std::vector<std::string>{"chunked"}) {
      return refuse(501, "Not Implemented", "not_implemented", "only Transfer-Encoding: chunked is supported");
    }
    chunked_ = true;
  } else if (length) {
    if (length->size() > 18 || std::stoull(*length) > max_body_) return too_large();
    content_length_ = std::stoull(*length);
  }
  head_ = std::move(head);
  in.erase(0, end);
  phase_ = Phase::kBody;
  continue_ = expect_continue && (chunked_ || in.size() < content_length_);
  return Progress::kWait;
}

/// Decodes the chunks that have arrived; refused as soon as a chunk would pass the limit.
RequestReader::Progress RequestReader::decode_chunks(std::string& in) {
  std::size_t pos = 0;
  while (chunk_ != Chunk::kDone) {
    if (chunk_ == Chunk::kSize || chunk_ == Chunk::kTrailer) {
      std::size_t eol = in.find("\r\n", pos);
      std::size_t limit = chunk_ == Chunk::kSize ? kMaxChunkLine : max_head_;
      if (eol == std::string::npos) {
        if (in.size() - pos > limit) return bad("malformed chunked body");
        break;
      }
      std::string_view line(in.data() + pos, eol - pos);
      pos = eol + 2;
      if (chunk_ == Chunk::kTrailer) {
        if (line.empty()) chunk_ = Chunk::kDone;  // trailer fields are dropped
        continue;
      }
      std::string_view digits = trim(line.substr(0, line.find(';')));
      if (digits.empty() || digits.size() > 15 ||
          digits.find_first_not_of("0123456789abcdefABCDEF") != std::string_view::npos) {
        return bad("malformed chunk size");
      }
      std::size_t size = std::stoull(std::string(digits), nullptr, 16);
      // Refused when a chunk is announced that would pass the limit, before its data arrives.
      if (size > max_body_ - body_.size()) return too_large();
      chunk_left_ = size;
      chunk_ = size == 0 ? Chunk::kTrailer : Chunk::kData;
    } else if (chunk_ == Chunk::kData) {
      std::size_t take = std::min(chunk_left_, in.size() - pos);
      if (take == 0) break;
      body_.append(in, pos, take);
      pos += take;
      chunk_left_ -= take;
      if (chunk_left_ == 0) chunk_ = Chunk::kDataEnd;
    } else {  // kDataEnd
      if (in.size() - pos < 2) break;
      if (in.compare(pos, 2, "\r\n") != 0) return bad("malformed chunked body");
      pos += 2;
      chunk_ = Chunk::kSize;
    }
  }
  in.erase(0, pos);  // once per call: erasing per chunk would be quadratic in tiny chunks
  return chunk_ == Chunk::kDone ? Progress::kReady : Progress::kWait;
}

RequestReader::Progress RequestReader::feed(std::string& in) {
  if (phase_ == Phase::kIdle) {
    // Blank lines before a request line are allowed (RFC 9112 section 2.2).
    std::size_t skip = 0;
    while (skip < in.size() && (in[skip] == '\r' || in[skip] == '\n')) ++skip;
    in.erase(0, skip);
    if (in.empty()) return Progress::kWait;
    phase_ = Phase::kHead;
  }
  if (phase_ == Phase::kHead) {
    std::size_t end = in.find("\r\n\r\n");
    if ((end == std::string::npos && in.size() > max_head_) || (end != std::string::npos && end + 4 > max_head_)) {
      return refuse(431, "Request Header Fields Too Large", "headers_too_large",
                    fmt::format("request head over {} bytes", max_head_));
    }
    if (end == std::string::npos) return Progress::kWait;
    if (Progress p = parse_head(in, end + 4); p != Progress::kWait) return p;
  }
  if (chunked_) {
    if (Progress p = decode_chunks(in); p != Progress::kReady) return p;
  } else {
    if (in.size() < content_length_) return Progress::kWait;
    body_.assign(in, 0, content_length_);
    in.erase(0, content_length_);
  }
  // One framing for the parser behind: the body's exact length, whatever the client used.
  request_ = std::move(head_);
  fmt::format_to(std::back_inserter(request_), "Content-Length: {}\r\n\r\n", body_.size());
  request_ += body_;
  return Progress::kReady;
}

std::string RequestReader::take_request() {
  std::string out = std::move(request_);
  *this = RequestReader(max_head_, max_body_);
  return out;
}

bool RequestReader::take_continue() { return std::exchange(continue_, false); }

struct HttpFront::Impl {
  FrontOptions options;
  Serve serve;
  Refused refused;
  int listen_fd = -1;
  int epoll_fd = -1;
  int wake_fd = -1;
  int port = 0;
  std::thread front;
  std::vector<std::thread> workers;

  // Owned by the front thread: connections with no request being answered.
  std::unordered_map<int, std::unique_ptr<Conn>> conns;
  std::atomic<std::size_t> open{0};  ///< every open connection, wherever it is

  std::mutex mu;
  std::condition_variable work_cv;     ///< a request was queued, or the workers are to exit
  std::condition_variable drained_cv;  ///< a worker took a request off the queue
  std::deque<std::unique_ptr<Conn>> queue;
  std::vector<std::unique_ptr<Conn>> returned;  ///< kept alive by a worker, back to the front
  bool front_done = false;
  bool workers_exit = false;
  std::atomic<bool> stopping{false};

  std::mutex stop_mu;  ///< held through stop(), so a second caller waits for the first
  bool stopped = false;

  ~Impl() {
    for (int fd : {listen_fd, epoll_fd, wake_fd}) {
      if (fd >= 0) ::close(fd);
    }
  }

  void close_conn(std::unique_ptr<Conn> c) {
    ::close(c->fd);
    open.fetch_sub(1);
  }

  void refuse(std::unique_ptr<Conn> c, int status, std::string_view reason, std::string_view code,
              std::string_view message, bool retry_after = false) {
    send_now(c->fd, error_response(status, reason, code, message, retry_after));
    // Let the answer leave before the close: a close with unread input would reset the connection.
    ::shutdown(c->fd, SHUT_WR);
    if (refused) refused(FrontRefusal{c->method, c->path, status});
    close_conn(std::move(c));
  }

  /// Takes the connection on `fd` out of the front: an idle one is closed; one with a request
  /// partly received is answered `status` first (named for the log by what was read of it).
  void drop(int fd, int status, std::string_view reason, std::string_view code, std::string_view message,
            bool retry_after = false) {
    auto it = conns.find(fd);
    std::unique_ptr<Conn> c = std::move(it->second);
    conns.erase(it);
    if (c->idle()) return close_conn(std::move(c));
    partial(*c);
    refuse(std::move(c), status, reason, code, message, retry_after);
  }

  /// A request only partly received, named for the log by what has been read of it.
  static void partial(Conn& c) {
    c.method = c.reader.method();
    c.path = c.reader.path();
  }

  void wake() {
    std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd, &one, sizeof(one));
  }

  // ---- the front thread ----

  void watch(std::unique_ptr<Conn> c) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = c->fd;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, c->fd, &ev);
    int fd = c->fd;
    conns[fd] = std::move(c);
  }

  void hand_to_worker(std::unique_ptr<Conn> c) {
    ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c->fd, nullptr);
    {
      std::lock_guard lock(mu);
      queue.push_back(std::move(c));
    }
    work_cv.notify_one();
  }

  /// Progress on a connection the front owns (it is in `conns`), after new bytes or its return.
  void progress(int fd) {
    auto it = conns.find(fd);
    if (it == conns.end()) return;
    Conn& c = *it->second;
    bool was_idle = c.idle();
    RequestReader::Progress p = c.reader.feed(c.in);
    if (was_idle && !c.idle()) c.since = Clock::now();  // a request's first byte: its deadlines start
    if (c.reader.take_continue()) send_now(fd, "HTTP/1.1 100 Continue\r\n\r\n");
    if (p == RequestReader::Progress::kWait) return;
    std::unique_ptr<Conn> owned = std::move(it->second);
    conns.erase(it);
    if (p == RequestReader::Progress::kRefused) {
      const RequestReader::Refusal& r = owned->reader.refusal();
      owned->method = owned->reader.method();
      owned->path = owned->reader.path();
      refuse(std::move(owned), r.status, r.reason, r.code, r.message);
      return;
    }
    owned->request = owned->reader.take_request();
    hand_to_worker(std::move(owned));
  }

  void on_readable(int fd) {
    auto it = conns.find(fd);
    if (it == conns.end()) return;
    Conn& c = *it->second;
    char buf[64 << 10];
    std::size_t got = 0;
    bool ended = false;
    while (got < kReadPerEvent) {
      ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n > 0) {
        c.in.append(buf, static_cast<std::size_t>(n));
        got += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      ended = true;  // the client closed its side, or the connection failed
      break;
    }
    progress(fd);
    // A request completed before the end is still answered (the client may only have shut down
    // its sending side); anything else on such a connection can never complete.
    if (ended) {
      auto left = conns.find(fd);
      if (left != conns.end()) {
        std::unique_ptr<Conn> gone = std::move(left->second);
        conns.erase(left);
        close_conn(std::move(gone));
      }
    }
  }

  /// At the cap: closes the oldest idle connection, else the oldest one still sending its request.
  bool shed_one() {
    Conn* victim = nullptr;
    for (bool want_idle : {true, false}) {
      for (auto& [fd, c] : conns) {
        bool match = c->idle() == want_idle;
        if (match && (victim == nullptr || c->since < victim->since)) victim = c.get();
      }
      if (victim) break;
    }
    if (!victim) return false;
    drop(victim->fd, 503, "Service Unavailable", "unavailable", "too many connections", true);
    return true;
  }

  void accept_all() {
    for (;;) {
      int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        // Out of descriptors: an idle connection makes room, else the rest wait in the backlog.
        if ((errno == EMFILE || errno == ENFILE) && shed_one()) continue;
        return;
      }
      int yes = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
      auto c = std::make_unique<Conn>(fd, options.max_head_bytes, options.max_body_bytes);
      c->since = Clock::now();
      open.fetch_add(1);
      if (open.load() > options.max_connections && !shed_one()) {
        refuse(std::move(c), 503, "Service Unavailable", "unavailable", "too many connections", true);
        continue;
      }
      watch(std::move(c));
    }
  }

  void take_returned() {
    std::vector<std::unique_ptr<Conn>> back;
    {
      std::lock_guard lock(mu);
      back.swap(returned);
    }
    for (std::unique_ptr<Conn>& c : back) {
      int fd = c->fd;
      c->since = Clock::now();
      watch(std::move(c));
      progress(fd);  // a pipelined request may be there already
    }
  }

  void sweep() {
    Clock::time_point now = Clock::now();
    std::vector<int> expired;
    for (auto& [fd, c] : conns) {
      RequestReader::Phase phase = c->reader.phase();
      auto limit = phase == RequestReader::Phase::kIdle   ? options.idle_timeout
                   : phase == RequestReader::Phase::kHead ? options.head_timeout
                                                          : options.request_timeout;
      if (now - c->since > limit) expired.push_back(fd);
    }
    for (int fd : expired) {
      drop(fd, 408, "Request Timeout", "request_timeout", "the request did not arrive in time");
    }
  }

  /// Stopping: what is waiting in the backlog is taken in, complete requests go to the workers
  /// (answered or refused with 503 within the drain), partial ones are answered 503 now and idle
  /// connections are closed.
  void finish_front() {
    accept_all();
    ::close(listen_fd);
    listen_fd = -1;
    std::vector<int> fds;
    for (auto& [fd, c] : conns) fds.push_back(fd);
    for (int fd : fds) on_readable(fd);
    for (auto& [fd, c] : conns) {
      if (c->idle()) {
        close_conn(std::move(c));
      } else {
        partial(*c);
        refuse(std::move(c), 503, "Service Unavailable", "unavailable", "the server is stopping", true);
      }
    }
    conns.clear();
    std::lock_guard lock(mu);
    front_done = true;
    for (std::unique_ptr<Conn>& c : returned) close_conn(std::move(c));
    returned.clear();
  }

  void run_front() {
    epoll_event events[256];
    Clock::time_point last_sweep = Clock::now();
    while (!stopping.load()) {
      int n = ::epoll_wait(epoll_fd, events, 256, static_cast<int>(kSweepInterval.count()));
      for (int i = 0; i < n && !stopping.load(); ++i) {
        int fd = events[i].data.fd;
        if (fd == listen_fd) {
          accept_all();
        } else if (fd == wake_fd) {
          std::uint64_t count = 0;
          [[maybe_unused]] ssize_t r = ::read(wake_fd, &count, sizeof(count));
          take_returned();
        } else {
          on_readable(fd);
        }
      }
      if (Clock::now() - last_sweep >= kSweepInterval) {
        sweep();
        last_sweep = Clock::now();
      }
    }
    finish_front();
  }

  // ---- workers ----

  void run_worker() {
    for (;;) {
      std::unique_ptr<Conn> c;
      {
        std::unique_lock lock(mu);
        work_cv.wait(lock, [&] { return !queue.empty() || workers_exit; });
        if (queue.empty()) return;
        c = std::move(queue.front());
        queue.pop_front();
      }
      drained_cv.notify_all();
      bool closing = stopping.load();
      FrontStream stream(c->fd, c->request, options.write_timeout);
      bool keep = false;
      t_current_stream = &stream;
      try {
        keep = serve(stream, closing) && !closing;
        t_current_stream = nullptr;
        keep = stream.flush() && keep;
      } catch (...) {
        t_current_stream = nullptr;
        // Handlers' exceptions are answered by the server's exception handler; anything escaping
        // the parser itself (out of memory) costs this connection, never the worker.
        keep = false;
      }
      t_current_stream = nullptr;
      c->request = std::string();
      if (keep) {
        std::unique_lock lock(mu);
        if (!front_done) {
          returned.push_back(std::move(c));
          lock.unlock();
          wake();
          continue;
        }
      }
      close_conn(std::move(c));
    }
  }

  void stop() {
    std::lock_guard stop_lock(stop_mu);
    if (stopped) return;
    Clock::time_point deadline = Clock::now() + options.drain_timeout;
    stopping = true;
    wake();
    if (front.joinable()) front.join();
    std::deque<std::unique_ptr<Conn>> late;
    {
      std::unique_lock lock(mu);
      drained_cv.wait_until(lock, deadline, [&] { return queue.empty(); });
      late.swap(queue);
      workers_exit = true;
    }
    work_cv.notify_all();
    // Requests received but still waiting for a worker at the drain deadline are told to retry.
    for (std::unique_ptr<Conn>& c : late) {
      std::string_view line(c->request.data(), c->request.find("\r\n"));
      std::size_t sp = line.find(' ');
      c->method = std::string(line.substr(0, sp));
      std::string_view target = line.substr(sp + 1, line.find(' ', sp + 1) - sp - 1);
      c->path = std::string(target.substr(0, target.find('?')));
      refuse(std::move(c), 503, "Service Unavailable", "unavailable", "the server is stopping", true);
    }
    for (std::thread& w : workers) w.join();
    stopped = true;
  }
};

// ---- FrontStream ----

bool FrontStream::is_writable() const {
  pollfd p{fd_, POLLOUT, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & POLLOUT) != 0;
}

ssize_t FrontStream::read(char* ptr, std::size_t size) {
  std::size_t n = std::min(size, request_.size() - pos_);
  std::memcpy(ptr, request_.data() + pos_, n);
  pos_ += n;
  return static_cast<ssize_t>(n);
}

ssize_t FrontStream::write(const char* ptr, std::size_t size) {
  if (!streamed_) out_.append(ptr, size);
  return static_cast<ssize_t>(size);
}

bool stream_current_response(std::string_view bytes) {
  return t_current_stream != nullptr && t_current_stream->send_streamed(bytes);
}

bool stream_current_head(const httplib::Response& res) {
  // Only 200 is streamed today; the reason phrase is informative (RFC 9112 section 4).
  std::string head = fmt::format("HTTP/1.1 {} {}\r\nTransfer-Encoding: chunked\r\n", res.status,
                                 res.status == 200 ? "OK" : "Unknown");
  for (const auto& [name, value] : res.headers) head.append(name).append(": ").append(value).append("\r\n");
  head += "\r\n";
  return stream_current_response(head);
}

bool stream_current_chunk(std::string_view data) {
  if (data.empty()) return true;  // an empty chunk would end the answer
  return stream_current_response(fmt::format("{:x}\r\n{}\r\n", data.size(), data));
}

bool end_current_stream() { return stream_current_response("0\r\n\r\n"); }

bool FrontStream::send_streamed(std::string_view bytes) {
  streamed_ = true;
  out_.assign(bytes);
  return flush();
}

bool FrontStream::flush() {
  if (failed_) return false;
  const Clock::time_point write_deadline = Clock::now() + write_timeout_;
  const char* ptr = out_.data();
  std::size_t size = out_.size();
  std::size_t done = 0;
  while (done < size) {
    ssize_t n = ::send(fd_, ptr + done, size - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // A client that does not read its answer holds a worker only until the write deadline.
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(write_deadline - Clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      continue;
    }
    break;
  }
  failed_ = done < size;
  out_.clear();
  return !failed_;
}

namespace {
void address_of(const sockaddr_storage& addr, std::string& ip, int& port) {
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    const auto& a = reinterpret_cast<const sockaddr_in&>(addr);
    ::inet_ntop(AF_INET, &a.sin_addr, text, sizeof(text));
    port = ntohs(a.sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6&>(addr);
    ::inet_ntop(AF_INET6, &a.sin6_addr, text, sizeof(text));
    port = ntohs(a.sin6_port);
  }
  ip = text;
}
}  // namespace

void FrontStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (::getpeername(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) address_of(addr, ip, port);
}

void FrontStream::get_local_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) address_of(addr, ip, port);
}

// ---- HttpFront ----

namespace {
int bind_listener(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  std::string service = std::to_string(port);
  if (::getaddrinfo(host.c_str(), service.c_str(), &hints, &found) != 0) return -1;
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    // A burst of clients waits in the backlog instead of having its SYNs dropped.
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, 1024) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  return fd;
}
}  // namespace

Result<std::unique_ptr<HttpFront>> HttpFront::start(FrontOptions options, Serve serve, Refused refused) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->serve = std::move(serve);
  impl->refused = std::move(refused);
  // The cap leaves room under the descriptor limit for the store, upstream calls and the log.
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY) {
    std::size_t room = files.rlim_cur > 128 ? static_cast<std::size_t>(files.rlim_cur) - 128 : 16;
    impl->options.max_connections = std::min(impl->options.max_connections, room);
  }
  const FrontOptions& o = impl->options;
  impl->listen_fd = bind_listener(o.host, o.port);
  if (impl->listen_fd < 0) {
    return unavailable(fmt::format("cannot listen on {}:{} (in use, or not an address of this host)", o.host, o.port));
  }
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  ::getsockname(impl->listen_fd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::string ip;
  address_of(addr, ip, impl->port);
  impl->epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  impl->wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (impl->epoll_fd < 0 || impl->wake_fd < 0) return unavailable(fmt::format("server: {}", std::strerror(errno)));
  for (int fd : {impl->listen_fd, impl->wake_fd}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    ::epoll_ctl(impl->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
  }
  Impl* raw = impl.get();
  for (int i = 0; i < std::max(1, o.workers); ++i) raw->workers.emplace_back([raw] { raw->run_worker(); });
  raw->front = std::thread([raw] { raw->run_front(); });
  return std::unique_ptr<HttpFront>(new HttpFront(std::move(impl)));
}

HttpFront::HttpFront(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpFront::~HttpFront() { stop(); }

int HttpFront::port() const { return impl_->port; }

void HttpFront::stop() { impl_->stop(); }

std::string_view method_label(std::string_view method) {
  for (std::string_view known : {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"}) {
    if (method == known) return known;
  }
  return "other";
}

std::string escape_for_log(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c >= 0x7f || c == '\\') {
      fmt::format_to(std::back_inserter(out), "\\x{:02x}", c);
    } else {
      out += ch;
    }
  }
  return out;
}

}  // namespace leadenrich::internal
