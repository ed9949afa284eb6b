#include "testing/sandbox_guards.h"

#include <fmt/format.h>

#include "internal/sandbox_data.h"

namespace leadenrich::internal {

Json problem(int status, std::string_view slug, std::string_view title, std::string detail) {
  Json::Object p;
  p.emplace_back("type", Json(fmt::format("https://api.pipe0.com/problems/{}", slug)));
  p.emplace_back("title", Json(title));
  p.emplace_back("status", Json(status));
  p.emplace_back("detail", Json(std::move(detail)));
  return Json(std::move(p));
}

Json envelope(int code, std::string_view message, Json data) {
  Json::Object e;
  e.emplace_back("code", Json(code));
  e.emplace_back("message", Json(message));
  e.emplace_back("data", std::move(data));
  return Json(std::move(e));
}

void send_json(httplib::Response& res, int status, const Json& body) {
  res.status = status;
  // With a charset, cpp-httplib does not compress: on loopback compression is pure cost.
  res.set_content(body.dump(), "application/json; charset=utf-8");
}

double SandboxShared::roll() {
  return static_cast<double>(internal::mix64(options.seed ^ (0xfau + ++rolls)) >> 11) / static_cast<double>(1ULL << 53);
}

void SandboxShared::count(const std::string& endpoint) {
  std::lock_guard lock(mu);
  ++counters.requests[endpoint];
}

bool SandboxShared::authorized(const httplib::Request& req) const {
  std::string auth = req.get_header_value("Authorization");
  if (auth.rfind("Bearer ", 0) != 0) return false;
  std::string token = auth.substr(7);
  if (token.empty()) return false;
  return options.require_key.empty() || token == options.require_key;
}

bool SandboxShared::pre_fault(httplib::Response& res, bool pipe0) {
  std::string kind;
  {
    std::lock_guard lock(mu);
    double r = roll();
    double acc = faults.p_5xx;
    if (r < acc) kind = "5xx";
    else if (r < (acc += faults.p_429)) kind = "429";
    else if (r < (acc += faults.p_reset)) kind = "reset";
    if (!kind.empty()) ++counters.faults[kind];
  }
  if (kind == "5xx") {
    send_json(res, 503, pipe0 ? problem(503, "service-unavailable", "Service Unavailable", "injected by the sandbox")
                              : envelope(503, "service unavailable (sandbox fault)", Json()));
  } else if (kind == "429") {
    res.set_header("Retry-After", "1");
    send_json(res, 429, pipe0 ? problem(429, "org-rate-limited", "Too Many Requests", "injected by the sandbox")
                              : envelope(429, "too many requests (sandbox fault)", Json()));
  } else if (kind == "reset") {
    // Headers go out, then the connection closes: the client sees a broken response.
    res.set_chunked_content_provider("application/json", [](std::size_t, httplib::DataSink&) { return false; });
  }
  return !kind.empty();
}

void SandboxShared::maybe_truncate(httplib::Response& res) {
  bool cut;
  {
    std::lock_guard lock(mu);
    cut = roll() < faults.p_truncated;
    if (cut) ++counters.faults["truncated"];
  }
  if (cut) res.body.resize(res.body.size() / 2);
}

}  // namespace leadenrich::internal
