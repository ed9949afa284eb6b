// The curl transport against a small server on 127.0.0.1: round trips, failure kinds, and many
// requests in flight on one event loop.
#include <httplib.h>

#include <atomic>
#include <future>
#include <thread>

#include <doctest/doctest.h>

#include "leadenrich/transport.h"

using namespace leadenrich;
using namespace std::chrono_literals;

namespace {

struct Server {
  httplib::Server http;
  std::thread thread;
  int port = 0;
  std::atomic<int> in_flight{0};
  std::atomic<int> peak{0};
  Server() {
    http.new_task_queue = [] { return new httplib::ThreadPool(64); };
    http.Post("/echo", [](const httplib::Request& q, httplib::Response& r) {
      r.set_header("X-Seen-Agent", q.get_header_value("User-Agent"));
      r.set_content(q.body, "text/plain");
    });
    http.Get("/missing", [](const httplib::Request&, httplib::Response& r) { r.status = 404; r.set_content("nope", "text/plain"); });
    http.Get("/slow", [this](const httplib::Request&, httplib::Response& r) {
      int now = ++in_flight;
      for (int p = peak.load(); now > p && !peak.compare_exchange_weak(p, now);) {}
      std::this_thread::sleep_for(300ms);
      --in_flight;
      r.set_content("done", "text/plain");
    });
    // 3 MiB, with a Content-Length and (under /big-stream) streamed in chunks without one.
    http.Get("/big", [](const httplib::Request&, httplib::Response& r) {
      r.set_content(std::string(std::size_t{3} << 20, 'x'), "text/plain");
    });
    http.Get("/big-stream", [](const httplib::Request&, httplib::Response& r) {
      r.set_chunked_content_provider("text/plain", [sent = std::size_t{0}](std::size_t, httplib::DataSink& sink) mutable {
        if (sent == (std::size_t{3} << 20)) {
          sink.done();
          return true;
        }
        std::string chunk(std::size_t{64} << 10, 'x');
        sent += chunk.size();
        return sink.write(chunk.data(), chunk.size());
      });
    });
    port = http.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { http.listen_after_bind(); });
    for (int i = 0; i < 500 && !http.is_running(); ++i) std::this_thread::sleep_for(2ms);
  }
  ~Server() {
    http.stop();
    thread.join();
  }
  std::string url(const char* path) const { return "http://127.0.0.1:" + std::to_string(port) + path; }
};

}  // namespace

TEST_CASE("a POST round-trips its body, with the leadenrich user agent; a 404 is a response") {
  Server s;
  auto t = make_curl_transport();
  HttpRequest r;
  r.method = "POST";
  r.url = s.url("/echo");
  r.body = R"({"hello":"wörld"})";
  HttpOutcome o = t->send(r);
  REQUIRE(o.response.ok());
  CHECK(o.response->status == 200);
  CHECK(o.response->body == r.body);
  CHECK(o.response->headers.get("x-seen-agent")->rfind("leadenrich/", 0) == 0);
  HttpRequest g;
  g.url = s.url("/missing");
  HttpOutcome missing = t->send(g);
  REQUIRE(missing.response.ok());
  CHECK(missing.response->status == 404);
}

TEST_CASE("a refused connection was not sent; a slow answer is a timeout") {
  auto t = make_curl_transport();
  HttpRequest refused;
  refused.url = "http://127.0.0.1:9/nothing";
  HttpOutcome o = t->send(refused);
  CHECK(o.failure == TransportFailure::kNotSent);
  CHECK(o.response.status().code() == StatusCode::kUnavailable);
  // A base URL's user:password (a proxy's credentials) never shows in the error.
  HttpRequest with_password;
  with_password.url = "http://user:S3CRET@127.0.0.1:9/nothing";
  Status refused_with_password = t->send(with_password).response.status();
  CHECK(refused_with_password.message().find("S3CRET") == std::string::npos);
  CHECK(refused_with_password.message().find("127.0.0.1:9/nothing") != std::string::npos);
  Server s;
  HttpRequest slow;
  slow.url = s.url("/slow");
  slow.total_timeout = 50ms;
  HttpOutcome late = t->send(slow);
  CHECK(late.failure == TransportFailure::kTimeout);
  CHECK(late.response.status().code() == StatusCode::kDeadlineExceeded);
  CHECK(late.response.status().message().find("127.0.0.1") != std::string::npos);
}

TEST_CASE("fifty requests are in flight together on one event loop") {
  Server s;
  auto t = make_curl_transport();
  std::atomic<int> ok{0};
  std::promise<void> all;
  std::atomic<int> left{50};
  for (int i = 0; i < 50; ++i) {
    HttpRequest r;
    r.url = s.url("/slow");
    t->send_async(r, [&](HttpOutcome o) {
      if (o.response.ok() && o.response->status == 200) ++ok;
      if (--left == 0) all.set_value();
    });
  }
  REQUIRE(all.get_future().wait_for(30s) == std::future_status::ready);
  CHECK(ok == 50);
  CHECK(s.peak > 1);  // they overlapped on the server
}

TEST_CASE("destroying the transport cancels what is pending, each callback once") {
  Server s;
  std::atomic<int> cancelled{0}, called{0};
  {
    auto t = make_curl_transport();
    for (int i = 0; i < 5; ++i) {
      HttpRequest r;
      r.url = s.url("/slow");
      t->send_async(r, [&](HttpOutcome o) {
        ++called;
        if (o.failure == TransportFailure::kCancelled) ++cancelled;
      });
    }
  }
  CHECK(called == 5);
  CHECK(cancelled >= 1);
}

TEST_CASE("a response body over max_response_bytes fails with the host and the limit; one under it is read") {
  Server s;
  CurlTransportOptions options;
  options.max_response_bytes = std::size_t{1} << 20;
  auto t = make_curl_transport(options);
  for (const char* path : {"/big", "/big-stream"}) {
    CAPTURE(path);
    HttpRequest r;
    r.url = s.url(path);
    HttpOutcome o = t->send(r);
    REQUIRE_FALSE(o.response.ok());
    std::string message = o.response.status().message();
    CHECK(message.find("127.0.0.1:" + std::to_string(s.port) + path) != std::string::npos);
    CHECK(message.find("larger than the 1 MiB limit") != std::string::npos);
    CHECK(o.failure == TransportFailure::kNone);  // answered: not a failure to re-send
  }
  options.max_response_bytes = std::size_t{4} << 20;
  auto roomy = make_curl_transport(options);
  for (const char* path : {"/big", "/big-stream"}) {
    HttpRequest r;
    r.url = s.url(path);
    HttpOutcome o = roomy->send(r);
    REQUIRE(o.response.ok());
    CHECK(o.response->body.size() == (std::size_t{3} << 20));
  }
}

TEST_CASE("the default limit is 64 MiB") { CHECK(CurlTransportOptions{}.max_response_bytes == (std::size_t{64} << 20)); }
