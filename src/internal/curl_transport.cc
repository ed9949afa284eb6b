#include "internal/curl_transport.h"

#include <curl/curl.h>

#include <atomic>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include <fmt/format.h>

#include "internal/url.h"
#include "leadenrich/version.h"

namespace leadenrich::internal {
namespace {

std::once_flag g_curl_init;

// "host:port/path" for messages: never the query string, never a header, never user:password.
std::string where(const HttpRequest& r) {
  std::string full = url_with_userinfo_masked(r.url);
  std::string_view url = full;
  std::size_t scheme = url.find("://");
  if (scheme != std::string_view::npos) url.remove_prefix(scheme + 3);
  url = url.substr(0, url.find_first_of("?#"));
  return fmt::format("{} {}", r.method, url);
}

// "64 MiB" when the limit is a whole number of MiB, else bytes.
std::string size_text(std::size_t bytes) {
  constexpr std::size_t kMiB = std::size_t{1} << 20;
  if (bytes >= kMiB && bytes % kMiB == 0) return fmt::format("{} MiB", bytes / kMiB);
  return fmt::format("{} bytes", bytes);
}

struct Transfer {
  HttpRequest request;
  std::function<void(HttpOutcome)> done;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  HttpResponse response;
  std::size_t max_body = 0;  // 0: no limit
  bool too_large = false;    // the body passed max_body; the transfer was stopped
  char error[CURL_ERROR_SIZE] = {0};

  ~Transfer() {
    if (headers != nullptr) curl_slist_free_all(headers);
    if (easy != nullptr) curl_easy_cleanup(easy);
  }
};

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  // Counted after decompression, so a small gzip body cannot expand past the limit either.
  if (t->max_body != 0 && t->response.body.size() + size * n > t->max_body) {
    t->too_large = true;
    return 0;  // stops the transfer (CURLE_WRITE_ERROR)
  }
  t->response.body.append(data, size * n);
  return size * n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.rfind("HTTP/", 0) == 0) {
    t->response.headers.items.clear();  // a new response (after 100-continue or a redirect)
  } else if (std::size_t colon = line.find(':'); colon != std::string_view::npos) {
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    t->response.headers.add(std::string(line.substr(0, colon)), std::string(value));
  }
  return size * n;
}

// The engine of the transport. Owned jointly by the handle and the loop thread, so the last
// owner may be the loop thread itself (a callback dropping the last handle) without it ever
// having to join itself.
class CurlCore : public std::enable_shared_from_this<CurlCore> {
 public:
  explicit CurlCore(const CurlTransportOptions& options) : options_(options) {
    std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    if (options_.user_agent.empty()) options_.user_agent = fmt::format("leadenrich/{}", kVersion);
    multi_ = curl_multi_init();
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(options_.max_connections_per_host));
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, static_cast<long>(options_.max_connections_per_host * 2));
  }

  ~CurlCore() { curl_multi_cleanup(multi_); }

  /// Starts the loop thread; it holds a reference to the core until it ends.
  void start_loop() {
    std::shared_ptr<CurlCore> self = shared_from_this();
    thread_ = std::thread([self] { self->loop(); });
  }

  /// Stops the loop. Joins it, unless called on the loop thread (then it ends by itself).
  void shutdown() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    curl_multi_wakeup(multi_);
    if (std::this_thread::get_id() == thread_.get_id()) {
      thread_.detach();
    } else if (thread_.joinable()) {
      thread_.join();
    }
  }

  void send_async(HttpRequest request, std::function<void(HttpOutcome)> done) {
    auto t = std::make_unique<Transfer>();
    t->request = std::move(request);
    t->done = std::move(done);
    {
      std::lock_guard lock(mu_);
      if (!stopping_) {
        queue_.push_back(std::move(t));
      }
    }
    if (t) {  // the transport is shutting down
      HttpOutcome o;
      o.response = Status(StatusCode::kCancelled, where(t->request) + ": the transport is shutting down");
      o.failure = TransportFailure::kCancelled;
      t->done(std::move(o));
      return;
    }
    curl_multi_wakeup(multi_);
  }

 private:
  void start(std::unique_ptr<Transfer> owned) {
    Transfer* t = owned.release();
    t->easy = curl_easy_init();
    CURL* e = t->easy;
    const HttpRequest& r = t->request;
    curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, options_.user_agent.c_str());
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(r.connect_timeout.count()));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(r.total_timeout.count()));
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
    // gzip and deflate are cheap to decode; brotli at a server's default quality costs more than it saves.
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "gzip, deflate");
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    t->max_body = options_.max_response_bytes;
    if (t->max_body != 0) {
      // Refuses at once a response whose Content-Length already says it is too large.
      curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(t->max_body));
    }
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
    if (r.method == "GET") {
      curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
      if (r.method != "POST") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.c_str());
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
    }
    t->headers = curl_slist_append(t->headers, "Expect:");  // no 100-continue round trip
    for (const auto& [k, v] : r.headers.items) {
      t->headers = curl_slist_append(t->headers, fmt::format("{}: {}", k, v).c_str());
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    curl_multi_add_handle(multi_, e);
    active_.insert(t);
  }

  void finish_failed(Transfer* t, TransportFailure failure, Status status) {
    HttpOutcome o;
    o.response = std::move(status);
    o.failure = failure;
    auto done = std::move(t->done);
    active_.erase(t);
    delete t;
    done(std::move(o));
  }

  void complete(Transfer* t, CURLcode code) {
    curl_multi_remove_handle(multi_, t->easy);
    if (code == CURLE_OK) {
      long status = 0;
      curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
      t->response.status = static_cast<int>(status);
      HttpOutcome o;
      o.response = std::move(t->response);
      auto done = std::move(t->done);
      active_.erase(t);
      delete t;
      done(std::move(o));
      return;
    }
    if (t->too_large || code == CURLE_FILESIZE_EXCEEDED) {
      // The server answered, so the request may have taken effect; re-sending would only fetch
      // the same oversized answer again.
      finish_failed(t, TransportFailure::kNone,
                    Status(StatusCode::kUnknown,
                           fmt::format("{}: the response is larger than the {} limit "
                                       "(CurlTransportOptions::max_response_bytes)",
                                       where(t->request), size_text(t->max_body))));
      return;
    }
    std::string detail = t->error[0] != '\0' ? t->error : curl_easy_strerror(code);
    std::string message = fmt::format("{}: {}", where(t->request), detail);
    // A transfer that never connected was provably not received, whatever the error says.
    double connect_time = 0;
    curl_easy_getinfo(t->easy, CURLINFO_CONNECT_TIME, &connect_time);
    bool connected = connect_time > 0;
    switch (code) {
      case CURLE_URL_MALFORMAT:
      case CURLE_UNSUPPORTED_PROTOCOL:
        finish_failed(t, TransportFailure::kNotSent, Status(StatusCode::kInvalidArgument, message));
        return;
      case CURLE_COULDNT_RESOLVE_HOST:
      case CURLE_COULDNT_RESOLVE_PROXY:
      case CURLE_COULDNT_CONNECT:
      case CURLE_SSL_CONNECT_ERROR:
      case CURLE_PEER_FAILED_VERIFICATION:
        finish_failed(t, TransportFailure::kNotSent, Status(StatusCode::kUnavailable, message));
        return;
      case CURLE_OPERATION_TIMEDOUT:
        finish_failed(t, connected ? TransportFailure::kTimeout : TransportFailure::kNotSent,
                      Status(StatusCode::kDeadlineExceeded, message));
        return;
      default:
        finish_failed(t, connected ? TransportFailure::kConnectionLost : TransportFailure::kNotSent,
                      Status(StatusCode::kUnavailable, message));
        return;
    }
  }

  void loop() {
    while (true) {
      std::deque<std::unique_ptr<Transfer>> incoming;
      {
        std::lock_guard lock(mu_);
        if (stopping_) break;
        incoming.swap(queue_);
      }
      for (auto& t : incoming) start(std::move(t));
      int running = 0;
      curl_multi_perform(multi_, &running);
      int left = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
        if (msg->msg != CURLMSG_DONE) continue;
        Transfer* t = nullptr;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
        complete(t, msg->data.result);
      }
      curl_multi_poll(multi_, nullptr, 0, 1000, nullptr);
    }
    // Whatever did not finish is cancelled: every callback is called exactly once.
    std::vector<Transfer*> unfinished(active_.begin(), active_.end());
    for (Transfer* t : unfinished) {
      curl_multi_remove_handle(multi_, t->easy);
      finish_failed(t, TransportFailure::kCancelled, Status(StatusCode::kCancelled, where(t->request) + ": cancelled"));
    }
    std::deque<std::unique_ptr<Transfer>> queued;
    {
      std::lock_guard lock(mu_);
      queued.swap(queue_);
    }
    for (auto& job : queued) {
      HttpOutcome o;
      o.response = Status(StatusCode::kCancelled, where(job->request) + ": cancelled");
      o.failure = TransportFailure::kCancelled;
      job->done(std::move(o));
    }
  }

  CurlTransportOptions options_;
  CURLM* multi_ = nullptr;
  std::mutex mu_;
  std::deque<std::unique_ptr<Transfer>> queue_;
  bool stopping_ = false;
  std::unordered_set<Transfer*> active_;  // owned; touched only by the loop thread (and the destructor after it)
  std::thread thread_;
};


// The handle users hold. Its destruction stops the core.
class CurlTransport : public HttpTransport {
 public:
  explicit CurlTransport(const CurlTransportOptions& options) : core_(std::make_shared<CurlCore>(options)) {
    core_->start_loop();
  }
  ~CurlTransport() override { core_->shutdown(); }

  HttpOutcome send(const HttpRequest& request) override {
    std::promise<HttpOutcome> promise;
    std::future<HttpOutcome> future = promise.get_future();
    core_->send_async(request, [&promise](HttpOutcome o) { promise.set_value(std::move(o)); });
    return future.get();
  }

  void send_async(HttpRequest request, std::function<void(HttpOutcome)> done) override {
    core_->send_async(std::move(request), std::move(done));
  }

 private:
  std::shared_ptr<CurlCore> core_;
};

}  // namespace

std::shared_ptr<HttpTransport> make_curl_transport_impl(const CurlTransportOptions& options) {
  return std::make_shared<CurlTransport>(options);
}

}  // namespace leadenrich::internal

namespace leadenrich {

std::shared_ptr<HttpTransport> make_curl_transport(const CurlTransportOptions& options) {
  return internal::make_curl_transport_impl(options);
}

}  // namespace leadenrich
