// A scripted HttpTransport for unit tests of one layer: answers from a queue or a handler,
// records every request. Never opens a socket.
#ifndef LEADENRICH_TESTING_FAKE_TRANSPORT_H_
#define LEADENRICH_TESTING_FAKE_TRANSPORT_H_

#include <deque>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

#include "leadenrich/transport.h"

namespace leadenrich::testing {

/// Thread-safe. send_async() answers inline, on the caller's thread.
class FakeTransport : public HttpTransport {
 public:
  using Handler = std::function<HttpOutcome(const HttpRequest&)>;

  /// Answers every request with `handler` (used once the queue is empty).
  void set_handler(Handler handler) {
    std::lock_guard lock(mu_);
    handler_ = std::move(handler);
  }
  /// Queues one response with `status` and `body` (and optional headers).
  void push_response(int status, std::string body, HttpHeaders headers = {}) {
    HttpOutcome o;
    o.response = HttpResponse{status, std::move(headers), std::move(body)};
    push_outcome(std::move(o));
  }
  /// Queues one transport failure.
  void push_failure(TransportFailure failure, Status status) {
    HttpOutcome o;
    o.response = std::move(status);
    o.failure = failure;
    push_outcome(std::move(o));
  }
  void push_outcome(HttpOutcome outcome) {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(outcome));
  }

  HttpOutcome send(const HttpRequest& request) override {
    std::unique_lock lock(mu_);
    requests_.push_back(request);
    if (!queue_.empty()) {
      HttpOutcome o = std::move(queue_.front());
      queue_.pop_front();
      return o;
    }
    Handler h = handler_;
    lock.unlock();
    if (h) return h(request);
    HttpOutcome o;
    o.response = Status(StatusCode::kInternal, "FakeTransport: no response queued for " + request.url);
    o.failure = TransportFailure::kNotSent;
    return o;
  }

  void send_async(HttpRequest request, std::function<void(HttpOutcome)> done) override {
    done(send(request));
  }

  /// Every request sent so far, in order.
  std::vector<HttpRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  std::size_t request_count() const {
    std::lock_guard lock(mu_);
    return requests_.size();
  }

 private:
  mutable std::mutex mu_;
  std::deque<HttpOutcome> queue_;
  Handler handler_;
  std::vector<HttpRequest> requests_;
};

}  // namespace leadenrich::testing

#endif  // LEADENRICH_TESTING_FAKE_TRANSPORT_H_
