#include "testing/pipe0_emulator.h"

#include <algorithm>
#include <thread>

#include <fmt/format.h>

#include "internal/sandbox_data.h"

namespace leadenrich::internal {

using std::chrono::milliseconds;

void Pipe0Emulator::add_routes(httplib::Server& server) {
  server.Post("/v1/pipes/run/sync", [this](const httplib::Request& q, httplib::Response& r) { handle_run(q, r, "run/sync"); });
  server.Post("/v1/pipes/run", [this](const httplib::Request& q, httplib::Response& r) { handle_run(q, r, "run"); });
  server.Post("/v1/pipes/validate", [this](const httplib::Request& q, httplib::Response& r) { handle_run(q, r, "validate"); });
  server.Get(R"(/v1/pipes/check/([^/]+))", [this](const httplib::Request& q, httplib::Response& r) { handle_check(q, r); });
  server.Post(R"(/v1/pipes/cancel/([^/]+))", [this](const httplib::Request& q, httplib::Response& r) { handle_cancel(q, r); });
  server.Get("/v1/credit-balance", [this](const httplib::Request& q, httplib::Response& r) {
    shared_.count("pipe0 credit-balance");
    if (!shared_.authorized(q)) return send_json(r, 401, problem(401, "unauthorized", "Unauthorized", "missing or invalid API key"));
    send_json(r, 200, Json::parse(R"({"balance":"1000.00"})").value());
  });
}

milliseconds Pipe0Emulator::service_time(std::size_t records) {
  double base = static_cast<double>(shared_.faults.latency.count());
  if (shared_.faults.jitter.count() > 0) base += shared_.roll() * static_cast<double>(shared_.faults.jitter.count());
  // Past P1 capacity the service slows in proportion: throughput stays at capacity / latency.
  double load = static_cast<double>(in_flight_ + records) / std::max(1, shared_.options.p1_capacity);
  return milliseconds(static_cast<long long>(base * std::max(1.0, load)));
}

void Pipe0Emulator::settle(Steady::time_point now) {
  for (auto& [id, run] : runs_) {
    if (run.settled || run.canceled || run.completes > now) continue;
    run.settled = true;
    in_flight_ -= std::min(in_flight_, run.records);
    bill(run);
  }
}

void Pipe0Emulator::bill(const StoredRun& run) {
  for (std::size_t r = 0; r < run.input.size(); ++r) {
    const Json& rec = run.input[r];
    for (std::size_t p = 0; p < run.pipes.size(); ++p) {
      const std::string& pipe_id = run.pipes[p];
      if (run.provider_errors.count({r, p})) continue;  // failed fields are free
      const internal::SandboxPipe* pipe = internal::find_sandbox_pipe(pipe_id);
      bool billed = false;
      std::string key;
      internal::sandbox_fields(shared_.options.seed, *pipe, rec.as_object(), billed, key);
      if (!billed) continue;
      ++shared_.counters.billed[pipe_id];
      if (!billed_keys_.insert(pipe_id + "#" + key).second) ++shared_.counters.repeated_billing;
    }
  }
}

void Pipe0Emulator::admit(std::size_t records) {
  in_flight_ += records;
  shared_.counters.records += records;
  shared_.counters.peak_records_in_flight = std::max(shared_.counters.peak_records_in_flight, in_flight_);
}

void Pipe0Emulator::capacity_headers(httplib::Response& res) {
  auto left = [&](int cap) { return std::max<long long>(0, cap - static_cast<long long>(in_flight_)); };
  int priority = static_cast<int>(in_flight_) <= shared_.options.p1_capacity ? 1 : static_cast<int>(in_flight_) <= shared_.options.p2_capacity ? 2 : 3;
  res.set_header("X-Task-Priority", std::to_string(priority));
  ++shared_.counters.runs_by_priority[priority];
  res.set_header("X-P1-Capacity", std::to_string(left(shared_.options.p1_capacity)));
  res.set_header("X-P2-Capacity", std::to_string(left(shared_.options.p2_capacity)));
  res.set_header("X-P3-Capacity", std::to_string(left(shared_.options.p2_capacity * 2)));
}

Json Pipe0Emulator::run_object(const std::string& id, std::string_view status, const StoredRun& run, bool with_results) {
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
        for (auto& member : internal::sandbox_fields(shared_.options.seed, *pipe, rec.as_object(), billed, key)) {
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

std::optional<Json> Pipe0Emulator::validate(const std::string& body, StoredRun& run) {
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

bool Pipe0Emulator::rate_limited(httplib::Response& res) {
  Steady::time_point now = Steady::now();
  std::lock_guard lock(shared_.mu);
  while (!window_.empty() && now - window_.front() > std::chrono::minutes(1)) window_.pop_front();
  if (static_cast<int>(window_.size()) >= shared_.options.rate_limit_per_minute) {
    ++shared_.counters.rate_limited;
    auto wait = std::chrono::duration_cast<std::chrono::seconds>(window_.front() + std::chrono::minutes(1) - now);
    res.set_header("Retry-After", std::to_string(std::max<long long>(1, wait.count() + 1)));
    send_json(res, 429, problem(429, "org-rate-limited", "Too Many Requests",
                                fmt::format("more than {} requests per minute", shared_.options.rate_limit_per_minute)));
    return true;
  }
  window_.push_back(now);
  return false;
}

bool Pipe0Emulator::pipe0_guard(const httplib::Request& req, httplib::Response& res, std::string_view endpoint, bool inject_faults) {
  shared_.count(fmt::format("pipe0 {}", endpoint));
  if (!shared_.authorized(req)) {
    send_json(res, 401, problem(401, "unauthorized", "Unauthorized", "missing or invalid API key"));
    return false;
  }
  if (rate_limited(res)) return false;
  return !(inject_faults && shared_.pre_fault(res, true));
}

void Pipe0Emulator::handle_run(const httplib::Request& req, httplib::Response& res, std::string_view mode) {
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
    std::lock_guard lock(shared_.mu);
    settle(Steady::now());
    run.id = fmt::format("run{:021x}", internal::mix64(shared_.options.seed ^ (0x5eedu + ++shared_.rolls)) & 0xfffffffffffffffULL);
    service = service_time(run.records);
    admit(run.records);
    for (const std::string& pipe_id : run.pipes) shared_.counters.lookups[pipe_id] += run.records;
    capacity_headers(res);
    run.created = Steady::now();
    run.completes = run.created + service;
    for (std::size_t r = 0; r < run.input.size(); ++r) {
      for (std::size_t p = 0; p < run.pipes.size(); ++p) {
        if (shared_.faults.p_provider_error > 0 && shared_.roll() < shared_.faults.p_provider_error) {
          run.provider_errors.insert({r, p});
          ++shared_.counters.faults["provider_error"];
        }
      }
    }
    if (mode == "run/sync" && shared_.roll() < shared_.faults.p_408_sync) {
      answer_408 = true;
      ++shared_.counters.faults["408"];
    }
  }
  if (mode == "run") {
    Json body = run_object(run.id, "pending", run, false);
    {
      std::lock_guard lock(shared_.mu);
      runs_.emplace(run.id, std::move(run));
    }
    send_json(res, 201, body);
    shared_.maybe_truncate(res);
    return;
  }
  if (answer_408) {
    std::string id = run.id;
    {
      std::lock_guard lock(shared_.mu);
      runs_.emplace(id, std::move(run));
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
    std::lock_guard lock(shared_.mu);
    in_flight_ -= std::min(in_flight_, run.records);
    run.settled = true;
    bill(run);
    runs_.emplace(run.id, std::move(run));
  }
  send_json(res, 200, body);
  shared_.maybe_truncate(res);
}

Pipe0Emulator::StoredRun* Pipe0Emulator::find_run(const std::string& id, Steady::time_point now,
                                                  httplib::Response& res) {
  settle(now);
  auto it = runs_.find(id);
  if (it != runs_.end()) return &it->second;
  send_json(res, 404, problem(404, "run-not-found", "Not Found", fmt::format("no run {}", id)));
  return nullptr;
}

void Pipe0Emulator::handle_check(const httplib::Request& req, httplib::Response& res) {
  if (!pipe0_guard(req, res, "check", true)) return;
  std::string id = req.matches[1];
  Json body;
  {
    std::lock_guard lock(shared_.mu);
    Steady::time_point now = Steady::now();
    StoredRun* found = find_run(id, now, res);
    if (found == nullptr) return;
    StoredRun& run = *found;
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
  shared_.maybe_truncate(res);
}

void Pipe0Emulator::handle_cancel(const httplib::Request& req, httplib::Response& res) {
  shared_.count("pipe0 cancel");
  if (!shared_.authorized(req)) {
    send_json(res, 401, problem(401, "unauthorized", "Unauthorized", "missing or invalid API key"));
    return;
  }
  std::string id = req.matches[1];
  std::lock_guard lock(shared_.mu);
  Steady::time_point now = Steady::now();
  StoredRun* found = find_run(id, now, res);
  if (found == nullptr) return;
  StoredRun& run = *found;
  bool pending = !run.settled && !run.canceled && now - run.created < (run.completes - run.created) / 2;
  if (!pending) {
    send_json(res, 409, problem(409, "run-not-cancelable", "Conflict",
                                fmt::format("run {} is already processing or finished", id)));
    return;
  }
  run.canceled = true;
  in_flight_ -= std::min(in_flight_, run.records);
  send_json(res, 200, run_object(id, "canceled", run, false));
}

}  // namespace leadenrich::internal
