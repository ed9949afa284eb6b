#include "leadenrich/sandbox.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "internal/sandbox_data.h"
#include "leadenrich/json.h"

namespace leadenrich {

std::size_t SandboxCounters::total_billed() const {
  std::size_t n = 0;
  for (const auto& [pipe, count] : billed) n += count;
  return n;
}

std::size_t SandboxCounters::total_requests() const {
  std::size_t n = 0;
  for (const auto& [name, count] : requests) n += count;
  return n;
}

namespace {

using Steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr const char* kSandboxKey = "sandbox-key";

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


}  // namespace

struct Sandbox::State {
  SandboxOptions options;
  internal::SandboxWorld world;
  httplib::Server server;
  std::thread thread;
  int port = 0;
  std::string accepted_key;

  mutable std::mutex mu;
  SandboxFaults faults;
  SandboxCounters counters;
  std::unordered_set<std::string> billed_keys;
  std::unordered_map<std::string, StoredRun> runs;
  std::size_t in_flight = 0;
  std::deque<Steady::time_point> window;  // pipe0 request times in the last minute
  std::uint64_t rolls = 0;
  bool stopped = false;

  // ---- shared helpers (call with mu held where noted) ----

  double roll() {  // mu held
    return static_cast<double>(internal::mix64(options.seed ^ (0xfau + ++rolls)) >> 11) / static_cast<double>(1ULL << 53);
  }

  void count(const std::string& endpoint) {
    std::lock_guard lock(mu);
    ++counters.requests[endpoint];
  }

  bool authorized(const httplib::Request& req) const {
    std::string auth = req.get_header_value("Authorization");
    if (auth.rfind("Bearer ", 0) != 0) return false;
    std::string token = auth.substr(7);
    if (token.empty()) return false;
    return options.require_key.empty() || token == options.require_key;
  }

  static void send_json(httplib::Response& res, int status, const Json& body) {
    res.status = status;
    // With a charset, cpp-httplib does not compress: on loopback compression is pure cost.
    res.set_content(body.dump(), "application/json; charset=utf-8");
  }

  // Faults that strike before any processing. Returns true when the response is decided.
  bool pre_fault(httplib::Response& res, bool pipe0) {
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

  // A truncated body, when that fault strikes.
  void maybe_truncate(httplib::Response& res) {
    bool cut;
    {
      std::lock_guard lock(mu);
      cut = roll() < faults.p_truncated;
      if (cut) ++counters.faults["truncated"];
    }
    if (cut) res.body.resize(res.body.size() / 2);
  }

  milliseconds service_time(std::size_t records) {  // mu held
    double base = static_cast<double>(faults.latency.count());
    if (faults.jitter.count() > 0) base += roll() * static_cast<double>(faults.jitter.count());
    // Past P1 capacity the service slows in proportion: throughput stays at capacity / latency.
    double load = static_cast<double>(in_flight + records) / std::max(1, options.p1_capacity);
    return milliseconds(static_cast<long long>(base * std::max(1.0, load)));
  }

  void settle(Steady::time_point now) {  // mu held
    for (auto& [id, run] : runs) {
      if (run.settled || run.canceled || run.completes > now) continue;
      run.settled = true;
      in_flight -= std::min(in_flight, run.records);
      bill(run);
    }
  }

  void bill(const StoredRun& run) {  // mu held
    for (std::size_t r = 0; r < run.input.size(); ++r) {
      const Json& rec = run.input[r];
      for (std::size_t p = 0; p < run.pipes.size(); ++p) {
        const std::string& pipe_id = run.pipes[p];
        if (run.provider_errors.count({r, p})) continue;  // failed fields are free
        const internal::SandboxPipe* pipe = internal::find_sandbox_pipe(pipe_id);
        bool billed = false;
        std::string key;
        internal::sandbox_fields(options.seed, *pipe, rec.as_object(), billed, key);
        if (!billed) continue;
        ++counters.billed[pipe_id];
        if (!billed_keys.insert(pipe_id + "#" + key).second) ++counters.repeated_billing;
      }
    }
  }

  void admit(std::size_t records) {  // mu held
    in_flight += records;
    counters.records += records;
    counters.peak_records_in_flight = std::max(counters.peak_records_in_flight, in_flight);
  }

  void capacity_headers(httplib::Response& res) {  // mu held
    auto left = [&](int cap) { return std::max<long long>(0, cap - static_cast<long long>(in_flight)); };
    int priority = static_cast<int>(in_flight) <= options.p1_capacity ? 1 : static_cast<int>(in_flight) <= options.p2_capacity ? 2 : 3;
    res.set_header("X-Task-Priority", std::to_string(priority));
    ++counters.runs_by_priority[priority];
    res.set_header("X-P1-Capacity", std::to_string(left(options.p1_capacity)));
    res.set_header("X-P2-Capacity", std::to_string(left(options.p2_capacity)));
    res.set_header("X-P3-Capacity", std::to_string(left(options.p2_capacity * 2)));
  }

  // The run object, with every record's inputs echoed and each pipe's fields.
  Json run_object(const std::string& id, std::string_view status, const StoredRun& run, bool with_results) {
    Json::Array order;
    Json::Object records;
    for (std::size_t r = 0; r < run.input.size(); ++r) {
      const Json& rec = run.input[r];
      std::string rid = rec.find("id")->to_text();
      order.emplace_back(rid);
      Json::Object fields;
      for (const auto& [k, v] : rec.as_object()) {
        if (k == "id") continue;
        Json::Object f;
        f.emplace_back("value", v);
        f.emplace_back("status", Json("completed"));
        f.emplace_back("type", Json(v.is_number() ? "number" : "string"));
        f.emplace_back("format", Json());
        f.emplace_back("reason", Json());
        f.emplace_back("claimed_by", Json::parse(R"({"ref":"input","config_hash":null})").value());
        f.emplace_back("resolved_by", Json::parse(R"({"ref":"input","input_hash":null,"config_hash":null,"environment":null})").value());
        fields.emplace_back(k, Json(std::move(f)));
      }
      for (std::size_t p = 0; p < run.pipes.size(); ++p) {
        const internal::SandboxPipe* pipe = internal::find_sandbox_pipe(run.pipes[p]);
        if (with_results && run.provider_errors.count({r, p})) {
          for (std::string_view name : pipe->outputs) {
            Json::Object f;
            f.emplace_back("value", Json());
            f.emplace_back("status", Json("failed"));
            f.emplace_back("type", Json("unknown"));
            Json::Object reason;
            reason.emplace_back("code", Json("ProviderError"));
            reason.emplace_back("summary", Json("provider error"));
            reason.emplace_back("message", Json("the provider failed, retry later (sandbox fault)"));
            f.emplace_back("reason", Json(std::move(reason)));
            fields.emplace_back(std::string(name), Json(std::move(f)));
          }
        } else if (with_results) {
          bool billed = false;
          std::string key;
          for (auto& member : internal::sandbox_fields(options.seed, *pipe, rec.as_object(), billed, key)) {
            fields.push_back(std::move(member));
          }
        } else {
          for (std::string_view name : pipe->outputs) {
            Json::Object f;
            f.emplace_back("value", Json());
            f.emplace_back("status", Json(status == "pending" ? "queued" : "processing"));
            f.emplace_back("type", Json("unknown"));
            fields.emplace_back(std::string(name), Json(std::move(f)));
          }
        }
      }
      Json::Object record;
      record.emplace_back("id", Json(rid));
      record.emplace_back("fields", Json(std::move(fields)));
      records.emplace_back(rid, Json(std::move(record)));
    }
    Json::Object o;
    o.emplace_back("id", Json(id));
    o.emplace_back("status", Json(status));
    o.emplace_back("organization_id", Json("org-sandbox"));
    o.emplace_back("order", Json(std::move(order)));
    o.emplace_back("errors", Json(Json::Array{}));
    o.emplace_back("field_definitions", Json(Json::Object{}));
    o.emplace_back("records", Json(std::move(records)));
    return Json(std::move(o));
  }

  // Validates a run payload the way pipe0 does. On success fills `run`.
  std::optional<Json> validate(const std::string& body, StoredRun& run) {
    Result<Json> doc = Json::parse(body);
    if (!doc.ok() || !doc->is_object()) {
      return problem(400, "invalid-json", "Bad Request", "the body is not a JSON object");
    }
    const Json* pipes = doc->find("pipes");
    if (pipes == nullptr || !pipes->is_array() || pipes->as_array().empty()) {
      return problem(400, "validation-error", "Bad Request", "pipes must be a non-empty array");
    }
    for (const Json& p : pipes->as_array()) {
      const Json* id = p.find("pipe_id");
      std::string pid = id != nullptr ? id->to_text() : "";
      if (internal::find_sandbox_pipe(pid) == nullptr) {
        return problem(400, "unknown-pipe", "Bad Request", fmt::format("unknown pipe_id '{}'", pid));
      }
      run.pipes.push_back(pid);
    }
    const Json* input = doc->find("input");
    if (input == nullptr || !input->is_array() || input->as_array().empty()) {
      return problem(400, "validation-error", "Bad Request", "input must be a non-empty array");
    }
    if (input->as_array().size() > 100) {
      return problem(400, "too-many-records", "Bad Request",
                     fmt::format("at most 100 input records per request, got {}", input->as_array().size()));
    }
    std::unordered_set<std::string> ids;
    for (const Json& rec : input->as_array()) {
      const Json* id = rec.find("id");
      std::string rid = id != nullptr ? id->to_text() : "";
      if (!rec.is_object() || rid.empty()) {
        return problem(400, "validation-error", "Bad Request", "every input record needs an id");
      }
      if (!ids.insert(rid).second) {
        return problem(400, "duplicate-record-id", "Bad Request", fmt::format("duplicate input id '{}'", rid));
      }
    }
    // A pipe's required input must appear (non-null) in at least one record.
    for (const std::string& pid : run.pipes) {
      for (std::string_view req : internal::find_sandbox_pipe(pid)->required) {
        bool any = std::any_of(input->as_array().begin(), input->as_array().end(), [&](const Json& rec) {
          const Json* v = rec.find(req);
          return v != nullptr && !v->is_null();
        });
        if (!any) {
          return problem(400, "missing-required-input", "Bad Request",
                         fmt::format("pipe {} requires {}, and no input record has it", pid, req));
        }
      }
    }
    run.input = input->as_array();
    run.records = run.input.size();
    return std::nullopt;
  }

  bool rate_limited(httplib::Response& res) {
    Steady::time_point now = Steady::now();
    std::lock_guard lock(mu);
    while (!window.empty() && now - window.front() > std::chrono::minutes(1)) window.pop_front();
    if (static_cast<int>(window.size()) >= options.rate_limit_per_minute) {
      ++counters.rate_limited;
      auto wait = std::chrono::duration_cast<std::chrono::seconds>(window.front() + std::chrono::minutes(1) - now);
      res.set_header("Retry-After", std::to_string(std::max<long long>(1, wait.count() + 1)));
      send_json(res, 429, problem(429, "org-rate-limited", "Too Many Requests",
                                  fmt::format("more than {} requests per minute", options.rate_limit_per_minute)));
      return true;
    }
    window.push_back(now);
    return false;
  }

  // Every pipe0 call: counted, authorised, rate-limited, and exposed to the injected faults
  // when `inject_faults`. False when the response is already decided.
  bool pipe0_guard(const httplib::Request& req, httplib::Response& res, std::string_view endpoint, bool inject_faults) {
    count(fmt::format("pipe0 {}", endpoint));
    if (!authorized(req)) {
      send_json(res, 401, problem(401, "unauthorized", "Unauthorized", "missing or invalid API key"));
      return false;
    }
    if (rate_limited(res)) return false;
    return !(inject_faults && pre_fault(res, true));
  }

  // POST run/sync, run, validate.
  void handle_run(const httplib::Request& req, httplib::Response& res, std::string_view mode) {
    if (!pipe0_guard(req, res, mode, mode != "validate")) return;
    StoredRun run;
    if (std::optional<Json> bad = validate(req.body, run)) {
      send_json(res, 400, *bad);
      return;
    }
    if (mode == "validate") {
      send_json(res, 200, Json::parse(R"({"valid":true})").value());
      return;
    }
    milliseconds service{0};
    bool answer_408 = false;
    {
      std::lock_guard lock(mu);
      settle(Steady::now());
      run.id = fmt::format("run{:021x}", internal::mix64(options.seed ^ (0x5eedu + ++rolls)) & 0xfffffffffffffffULL);
      service = service_time(run.records);
      admit(run.records);
      for (const std::string& pipe_id : run.pipes) counters.lookups[pipe_id] += run.records;
      capacity_headers(res);
      run.created = Steady::now();
      run.completes = run.created + service;
      for (std::size_t r = 0; r < run.input.size(); ++r) {
        for (std::size_t p = 0; p < run.pipes.size(); ++p) {
          if (faults.p_provider_error > 0 && roll() < faults.p_provider_error) {
            run.provider_errors.insert({r, p});
            ++counters.faults["provider_error"];
          }
        }
      }
      if (mode == "run/sync" && roll() < faults.p_408_sync) {
        answer_408 = true;
        ++counters.faults["408"];
      }
    }
    if (mode == "run") {
      Json body = run_object(run.id, "pending", run, false);
      {
        std::lock_guard lock(mu);
        runs.emplace(run.id, std::move(run));
      }
      send_json(res, 201, body);
      maybe_truncate(res);
      return;
    }
    if (answer_408) {
      std::string id = run.id;
      {
        std::lock_guard lock(mu);
        runs.emplace(id, std::move(run));
      }
      send_json(res, 408, problem(408, "request-timeout", "Request Timeout",
                                  fmt::format("The run {} did not finish within the synchronous limit; poll "
                                              "/v1/pipes/check/{} for its result",
                                              id, id)));
      return;
    }
    std::this_thread::sleep_for(service);
    Json body = run_object(run.id, "completed", run, true);
    {
      std::lock_guard lock(mu);
      in_flight -= std::min(in_flight, run.records);
      run.settled = true;
      bill(run);
      runs.emplace(run.id, std::move(run));
    }
    send_json(res, 200, body);
    maybe_truncate(res);
  }

  void handle_check(const httplib::Request& req, httplib::Response& res) {
    if (!pipe0_guard(req, res, "check", true)) return;
    std::string id = req.matches[1];
    Json body;
    {
      std::lock_guard lock(mu);
      Steady::time_point now = Steady::now();
      settle(now);
      auto it = runs.find(id);
      if (it == runs.end()) {
        send_json(res, 404, problem(404, "run-not-found", "Not Found", fmt::format("no run {}", id)));
        return;
      }
      StoredRun& run = it->second;
      if (run.canceled) {
        body = run_object(id, "canceled", run, false);
      } else if (run.settled) {
        body = run_object(id, "completed", run, true);
      } else {
        bool processing = now - run.created >= (run.completes - run.created) / 2;
        body = run_object(id, processing ? "processing" : "pending", run, false);
      }
    }
    send_json(res, 200, body);
    maybe_truncate(res);
  }

  void handle_cancel(const httplib::Request& req, httplib::Response& res) {
    count("pipe0 cancel");
    if (!authorized(req)) {
      send_json(res, 401, problem(401, "unauthorized", "Unauthorized", "missing or invalid API key"));
      return;
    }
    std::string id = req.matches[1];
    std::lock_guard lock(mu);
    Steady::time_point now = Steady::now();
    settle(now);
    auto it = runs.find(id);
    if (it == runs.end()) {
      send_json(res, 404, problem(404, "run-not-found", "Not Found", fmt::format("no run {}", id)));
      return;
    }
    StoredRun& run = it->second;
    bool pending = !run.settled && !run.canceled && now - run.created < (run.completes - run.created) / 2;
    if (!pending) {
      send_json(res, 409, problem(409, "run-not-cancelable", "Conflict",
                                  fmt::format("run {} is already processing or finished", id)));
      return;
    }
    run.canceled = true;
    in_flight -= std::min(in_flight, run.records);
    send_json(res, 200, run_object(id, "canceled", run, false));
  }

  // ---- Aturiya ----

  bool aturiya_guard(const httplib::Request& req, httplib::Response& res, const char* endpoint) {
    count(fmt::format("aturiya {}", endpoint));
    if (!authorized(req)) {
      send_json(res, 401, envelope(401, "Invalid or expired token", Json()));
      return false;
    }
    if (pre_fault(res, false)) return false;
    milliseconds latency;
    {
      std::lock_guard lock(mu);
      latency = faults.latency / 10;
    }
    if (latency.count() > 0) std::this_thread::sleep_for(latency);
    if (req.matches.size() >= 3 && (req.matches[1] != world.user_id || req.matches[2] != world.agent_id)) {
      send_json(res, 404, envelope(404, "unknown user or agent", Json()));
      return false;
    }
    return true;
  }

  const Json* campaign(const std::string& id) const {
    for (const Json& c : world.campaigns) {
      if (c.find("id")->to_text() == id) return &c;
    }
    return nullptr;
  }

  void handle_leads(const httplib::Request& req, httplib::Response& res) {
    if (!aturiya_guard(req, res, "leads")) return;
    std::string cid = req.get_param_value("campaign_id");
    auto number = [&](const char* name, long long fallback) {
      if (!req.has_param(name)) return fallback;
      try {
        return std::stoll(req.get_param_value(name));
      } catch (...) {
        return fallback;
      }
    };
    long long page = std::max(1LL, number("page", 1));
    long long per_page = std::clamp(number("per_page", number("limit", 20)), 1LL, 100LL);
    std::vector<const Json*> all;
    for (std::size_t c = 0; c < world.campaigns.size(); ++c) {
      bool match = cid.empty() || options.ignore_campaign_filter || world.campaigns[c].find("id")->to_text() == cid;
      if (!match) continue;
      for (const Json& l : world.leads[c]) all.push_back(&l);
    }
    long long total = static_cast<long long>(all.size());
    long long total_pages = std::max(1LL, (total + per_page - 1) / per_page);
    long long shown = options.always_next_page ? std::min(page, total_pages) : page;
    Json::Array data;
    for (long long i = (shown - 1) * per_page; i < std::min(total, shown * per_page); ++i) {
      data.push_back(*all[static_cast<std::size_t>(i)]);
    }
    Json::Object pagination;
    pagination.emplace_back("page", Json(static_cast<std::int64_t>(page)));
    pagination.emplace_back("per_page", Json(static_cast<std::int64_t>(per_page)));
    pagination.emplace_back("total", Json(static_cast<std::int64_t>(total)));
    pagination.emplace_back("total_pages", Json(static_cast<std::int64_t>(options.always_next_page ? page + 1 : total_pages)));
    pagination.emplace_back("has_next_page", Json(options.always_next_page || page < total_pages));
    Json body = envelope(200, "ok", Json(std::move(data)));
    body.set("pagination", Json(std::move(pagination)));
    send_json(res, 200, body);
    maybe_truncate(res);
  }

  void routes() {
    server.Post("/v1/pipes/run/sync", [this](const httplib::Request& q, httplib::Response& r) { handle_run(q, r, "run/sync"); });
    server.Post("/v1/pipes/run", [this](const httplib::Request& q, httplib::Response& r) { handle_run(q, r, "run"); });
    server.Post("/v1/pipes/validate", [this](const httplib::Request& q, httplib::Response& r) { handle_run(q, r, "validate"); });
    server.Get(R"(/v1/pipes/check/([^/]+))", [this](const httplib::Request& q, httplib::Response& r) { handle_check(q, r); });
    server.Post(R"(/v1/pipes/cancel/([^/]+))", [this](const httplib::Request& q, httplib::Response& r) { handle_cancel(q, r); });
    server.Get("/v1/credit-balance", [this](const httplib::Request& q, httplib::Response& r) {
      count("pipe0 credit-balance");
      if (!authorized(q)) return send_json(r, 401, problem(401, "unauthorized", "Unauthorized", "missing or invalid API key"));
      send_json(r, 200, Json::parse(R"({"balance":"1000.00"})").value());
    });
    server.Get("/users/auth/me", [this](const httplib::Request& q, httplib::Response& r) {
      if (!aturiya_guard(q, r, "me")) return;
      Json::Object me;
      me.emplace_back("user_id", Json(world.user_id));
      me.emplace_back("full_name", Json("Sandbox User"));
      me.emplace_back("email", Json("sandbox@leadenrich.local"));
      Json body = envelope(200, "ok", Json(me));
      body.set("full_name", Json("Sandbox User"));
      body.set("email", Json("sandbox@leadenrich.local"));
      send_json(r, 200, body);
    });
    const std::string base = R"(/users/([^/]+)/agents/sdr/([^/]+))";
    server.Get(base + "/campaigns", [this](const httplib::Request& q, httplib::Response& r) {
      if (!aturiya_guard(q, r, "campaigns")) return;
      send_json(r, 200, envelope(200, "ok", Json(Json::Array(world.campaigns.begin(), world.campaigns.end()))));
      maybe_truncate(r);
    });
    server.Get(base + "/campaigns/([^/]+)", [this](const httplib::Request& q, httplib::Response& r) {
      if (!aturiya_guard(q, r, "campaign")) return;
      const Json* c = campaign(q.matches[3]);
      if (c == nullptr) return send_json(r, 404, envelope(404, "campaign not found", Json()));
      send_json(r, 200, envelope(200, "ok", *c));
    });
    server.Get(base + "/leads", [this](const httplib::Request& q, httplib::Response& r) { handle_leads(q, r); });
    server.Get(base + "/leads/([^/]+)", [this](const httplib::Request& q, httplib::Response& r) {
      if (!aturiya_guard(q, r, "lead")) return;
      std::string id = q.matches[3];
      for (const auto& leads : world.leads) {
        for (const Json& l : leads) {
          if (l.find("lead_id")->to_text() == id) return send_json(r, 200, envelope(200, "ok", l));
        }
      }
      send_json(r, 404, envelope(404, "lead not found", Json()));
    });
    server.Get("/sandbox/counters", [this](const httplib::Request&, httplib::Response& r) {
      SandboxCounters c;
      {
        std::lock_guard lock(mu);
        c = counters;
      }
      Json::Object o;
      auto map_json = [](const std::map<std::string, std::size_t>& m) {
        Json::Object j;
        for (const auto& [k, v] : m) j.emplace_back(k, Json(static_cast<std::int64_t>(v)));
        return Json(std::move(j));
      };
      o.emplace_back("requests", map_json(c.requests));
      o.emplace_back("records", Json(static_cast<std::int64_t>(c.records)));
      o.emplace_back("lookups", map_json(c.lookups));
      o.emplace_back("billed", map_json(c.billed));
      o.emplace_back("repeated_billing", Json(static_cast<std::int64_t>(c.repeated_billing)));
      o.emplace_back("peak_records_in_flight", Json(static_cast<std::int64_t>(c.peak_records_in_flight)));
      Json::Object priorities;
      for (const auto& [p, n] : c.runs_by_priority) priorities.emplace_back(std::to_string(p), Json(static_cast<std::int64_t>(n)));
      o.emplace_back("runs_by_priority", Json(std::move(priorities)));
      o.emplace_back("faults", map_json(c.faults));
      o.emplace_back("rate_limited", Json(static_cast<std::int64_t>(c.rate_limited)));
      send_json(r, 200, Json(std::move(o)));
    });
    if (options.log) {
      server.set_logger([this](const httplib::Request& q, const httplib::Response& r) {
        options.log(fmt::format("{} {} {}", q.method, q.path, r.status));
      });
    }
  }
};

Sandbox::Sandbox(std::unique_ptr<State> state) : state_(std::move(state)) {}

Sandbox::~Sandbox() { stop(); }

Result<std::unique_ptr<Sandbox>> Sandbox::start(const SandboxOptions& options) {
  auto state = std::make_unique<State>();
  state->options = options;
  state->faults = options.faults;
  state->accepted_key = options.require_key.empty() ? kSandboxKey : options.require_key;
  state->world = internal::make_world(options.seed, options.campaigns, options.leads_per_campaign);
  int threads = std::max(2, options.threads);
  state->server.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<std::size_t>(threads)); };
  state->server.set_payload_max_length(8 << 20);
  // Responses go out in several writes; without this, Nagle holds the last one for a delayed ACK.
  state->server.set_tcp_nodelay(true);
  state->routes();
  // cpp-httplib listens with a backlog of 5: a burst of new connections (an engine opening its
  // first wave of requests) would see SYNs dropped and retried a second later. Keep the socket
  // to raise the backlog once it listens.
  auto listen_socket = std::make_shared<int>(-1);
  state->server.set_socket_options([listen_socket](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    *listen_socket = sock;
  });
  int port = options.port == 0 ? state->server.bind_to_any_port(options.host)
                                : (state->server.bind_to_port(options.host, options.port) ? options.port : -1);
  if (port <= 0) {
    return unavailable(fmt::format("the sandbox cannot listen on {}:{}", options.host, options.port));
  }
  state->port = port;
  if (*listen_socket >= 0) ::listen(*listen_socket, 1024);
  State* raw = state.get();
  state->thread = std::thread([raw] { raw->server.listen_after_bind(); });
  for (int i = 0; i < 500 && !state->server.is_running(); ++i) std::this_thread::sleep_for(milliseconds(2));
  return std::unique_ptr<Sandbox>(new Sandbox(std::move(state)));
}

std::string Sandbox::base_url() const { return fmt::format("http://{}:{}", state_->options.host, state_->port); }
int Sandbox::port() const { return state_->port; }
const std::string& Sandbox::user_id() const { return state_->world.user_id; }
const std::string& Sandbox::agent_id() const { return state_->world.agent_id; }
std::string Sandbox::api_key() const { return state_->accepted_key; }

Config Sandbox::config() const {
  Config c;
  c.aturiya_base_url = base_url();
  c.pipe0_base_url = base_url();
  c.aturiya_bearer_token = Secret(api_key());
  c.pipe0_api_key = Secret(api_key());
  c.aturiya_user_id = user_id();
  c.aturiya_agent_id = agent_id();
  return c;
}

std::string Sandbox::environment() const {
  Config c = config();
  return fmt::format("PIPE0_BASE_URL={}\nATURIYA_BASE_URL={}\nPIPE0_API_KEY={}\nATURIYA_BEARER_TOKEN={}\n"
                     "ATURIYA_USER_ID={}\nATURIYA_AGENT_ID={}\n",
                     c.pipe0_base_url, c.aturiya_base_url, c.pipe0_api_key.reveal(), c.aturiya_bearer_token.reveal(),
                     c.aturiya_user_id, c.aturiya_agent_id);
}

void Sandbox::set_faults(const SandboxFaults& faults) {
  std::lock_guard lock(state_->mu);
  state_->faults = faults;
}

SandboxCounters Sandbox::counters() const {
  std::lock_guard lock(state_->mu);
  return state_->counters;
}

void Sandbox::reset_counters() {
  std::lock_guard lock(state_->mu);
  state_->counters = SandboxCounters{};
  state_->billed_keys.clear();
}

void Sandbox::stop() {
  {
    std::lock_guard lock(state_->mu);
    if (state_->stopped) return;
    state_->stopped = true;
  }
  state_->server.stop();
  if (state_->thread.joinable()) state_->thread.join();
}

}  // namespace leadenrich
