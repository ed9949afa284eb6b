// /v1/jobs: background enrichment of a campaign or a list of leads (docs/server.md, "Jobs").
#include "internal/server_jobs.h"

#include <cstdio>
#include <set>

#include <fmt/format.h>

#include "internal/csv_write.h"
#include "internal/http_front.h"
#include "internal/stored_result.h"
#include "leadenrich/output.h"

namespace leadenrich::internal {
namespace {

using httplib::Request;
using httplib::Response;

constexpr std::size_t kMaxProgressEvery = 1'000'000;
constexpr std::size_t kReadBlock = 64 << 10;
/// A result stream whose job is still running looks for new lines this often (and at once when
/// the job writes some).
constexpr std::chrono::milliseconds kStreamPoll{1000};

void send_json(Response& res, int status, const Json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json; charset=utf-8");
}

/// The server's one error shape (docs/server.md, "Errors").
void send_error(Response& res, int status, std::string_view code, std::string_view message) {
  Json::Object error{{"code", Json(code)}, {"message", Json(message)}};
  send_json(res, status, Json(Json::Object{{"error", Json(std::move(error))}}));
}

/// Job ids as this server makes them: job_<time>_<hex>; anything else cannot be one.
bool valid_job_id(std::string_view id) {
  if (id.size() < 5 || id.size() > 64 || id.substr(0, 4) != "job_") return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

/// The job of a request's path, or nullopt after answering 400/404.
std::optional<std::string> job_id_of(const Request& req, Response& res) {
  std::string id = req.matches[1];
  if (!valid_job_id(id)) {
    send_error(res, 400, "invalid_argument", "invalid job id");
    return std::nullopt;
  }
  return id;
}

/// A POST /v1/jobs body as a JobSpec; the error is one line naming the field.
Result<JobSpec> parse_spec(const std::string& body, const ServerJobOptions& options) {
  Result<Json> parsed = Json::parse(body);
  if (!parsed.ok()) return invalid_argument(fmt::format("request body: {}", parsed.status().message()));
  if (!parsed->is_object()) {
    return invalid_argument("request body: expected {\"campaign_id\": ...} or {\"leads\": [...]}, with optional "
                            "signals, webhook_url and progress_every");
  }
  JobSpec spec;
  std::set<std::string> seen;
  for (const auto& [key, value] : parsed->as_object()) {
    if (!seen.insert(key).second) return invalid_argument(fmt::format("request body: {} is given twice", key));
    if (key == "campaign_id") {
      if (!value.is_string() || !valid_api_id(value.as_string())) {
        return invalid_argument("campaign_id: expected a campaign id (letters, digits, _ . : @ -; up to 128)");
      }
      spec.campaign_id = value.as_string();
    } else if (key == "leads") {
      if (!value.is_array() || value.as_array().empty()) return invalid_argument("leads: expected a non-empty list of leads");
      if (value.as_array().size() > options.max_leads) {
        return invalid_argument(
            fmt::format("leads: {} leads, at most {} per job", value.as_array().size(), options.max_leads));
      }
      for (std::size_t i = 0; i < value.as_array().size(); ++i) {
        Result<RawLead> lead = raw_lead_from_json(value.as_array()[i]);
        if (!lead.ok()) return invalid_argument(fmt::format("leads[{}]: {}", i, lead.status().message()));
        if (!valid_api_id(lead->lead_id)) return invalid_argument(fmt::format("leads[{}]: invalid lead_id", i));
        spec.leads.push_back(std::move(lead).value());
      }
    } else if (key == "signals") {
      if (!value.is_array() || value.as_array().empty()) {
        return invalid_argument("signals: expected a non-empty list of signal names");
      }
      for (const Json& name : value.as_array()) {
        Result<Signal> signal = name.is_string() ? parse_signal(name.as_string())
                                                 : Result<Signal>(invalid_argument("expected a signal name"));
        if (!signal.ok()) return invalid_argument(fmt::format("signals: {}", signal.status().message()));
        if (std::find(spec.signals.begin(), spec.signals.end(), *signal) != spec.signals.end()) {
          return invalid_argument(fmt::format("signals: {} is given twice", name.as_string()));
        }
        spec.signals.push_back(*signal);
      }
    } else if (key == "webhook_url") {
      if (!value.is_string()) return invalid_argument("webhook_url: expected a string");
      LEADENRICH_RETURN_IF_ERROR(check_webhook_url(value.as_string(), options.webhook_hosts));
      if (options.webhook_secret.empty()) {
        return failed_precondition(
            "webhook_url: this server has no LEADENRICH_WEBHOOK_SECRET, so it could not sign deliveries");
      }
      spec.webhook_url = value.as_string();
    } else if (key == "progress_every") {
      std::optional<std::int64_t> n = value.to_int();
      if (!n || *n < 1 || static_cast<std::size_t>(*n) > kMaxProgressEvery) {
        return invalid_argument(fmt::format("progress_every: expected a whole number from 1 to {}", kMaxProgressEvery));
      }
      spec.progress_every = static_cast<std::size_t>(*n);
    } else {
      return invalid_argument(fmt::format(
          "request body: unknown field \"{}\" (known: campaign_id, leads, signals, webhook_url, progress_every)", key));
    }
  }
  spec.lead_count = spec.leads.size();
  if (spec.campaign_id.has_value() && !spec.leads.empty()) {
    return invalid_argument("request body: give either campaign_id or leads, not both");
  }
  if (!spec.campaign_id.has_value() && spec.leads.empty()) {
    return invalid_argument("request body: give campaign_id or leads (the leads to enrich)");
  }
  if (spec.progress_every && spec.webhook_url.empty()) {
    return invalid_argument("progress_every: needs a webhook_url to send progress to");
  }
  return spec;
}

}  // namespace

const std::vector<JobRoutes::RouteInfo>& JobRoutes::routes() {
  static const std::vector<RouteInfo> kRoutes = {
      {"POST", "/v1/jobs", "/v1/jobs"},
      {"GET", "/v1/jobs", "/v1/jobs"},
      {"GET", "/v1/jobs/{id}", "/v1/jobs/([^/]+)"},
      {"DELETE", "/v1/jobs/{id}", "/v1/jobs/([^/]+)"},
      {"GET", "/v1/jobs/{id}/results", "/v1/jobs/([^/]+)/results"},
  };
  return kRoutes;
}

Result<std::unique_ptr<JobRoutes>> JobRoutes::start(httplib::Server& http, JobManager::Deps deps,
                                                    std::size_t max_streams) {
  std::unique_ptr<JobRoutes> r(new JobRoutes());
  r->deps_ = deps;
  r->max_streams_ = std::max<std::size_t>(1, max_streams);
  Result<std::unique_ptr<JobManager>> jobs = JobManager::start(std::move(deps));
  if (!jobs.ok()) return jobs.status();
  r->jobs_ = std::move(jobs).value();
  JobRoutes* self = r.get();
  auto bind = [self](void (JobRoutes::*handler)(const Request&, Response&)) {
    return [self, handler](const Request& q, Response& s) { (self->*handler)(q, s); };
  };
  http.Post("/v1/jobs", bind(&JobRoutes::create));
  http.Get("/v1/jobs", bind(&JobRoutes::list));
  http.Get("/v1/jobs/([^/]+)/results", bind(&JobRoutes::results));
  http.Get("/v1/jobs/([^/]+)", bind(&JobRoutes::get));
  http.Delete("/v1/jobs/([^/]+)", bind(&JobRoutes::cancel));
  return r;
}

void JobRoutes::stop() { jobs_->stop(); }

void JobRoutes::add_to_openapi(Json& document) {
  // Kept here, next to the routes; openapi.cc adds them to its document.
  static const char* kPaths = R"json({
    "/v1/jobs": {
      "post": {
        "summary": "Start a background job: a campaign or a list of leads, enriched as a journaled run (a restart resumes it)",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "properties": {
          "campaign_id": {"type": "string"}, "leads": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/RawLead"}},
          "signals": {"type": "array", "items": {"type": "string"}}, "webhook_url": {"type": "string", "format": "uri"},
          "progress_every": {"type": "integer", "minimum": 1}}}}}},
        "responses": {
          "202": {"description": "The job, queued", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
          "429": {"description": "Too many jobs waiting", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }
      },
      "get": {
        "summary": "Every job, newest first",
        "responses": {"200": {"description": "The jobs", "content": {"application/json": {"schema": {"type": "object", "properties": {"jobs": {"type": "array", "items": {"$ref": "#/components/schemas/Job"}}}}}}},
                      "401": {"$ref": "#/components/responses/Unauthorized"}}
      }
    },
    "/v1/jobs/{id}": {
      "get": {
        "summary": "A job: state, progress, counts and webhook delivery attempts",
        "parameters": [{"$ref": "#/components/parameters/JobId"}],
        "responses": {"200": {"description": "The job", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}}},
                      "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"}, "404": {"$ref": "#/components/responses/NotFound"}}
      },
      "delete": {
        "summary": "Cancel a queued or running job",
        "parameters": [{"$ref": "#/components/parameters/JobId"}],
        "responses": {"202": {"description": "The job, cancelling", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}}},
                      "401": {"$ref": "#/components/responses/Unauthorized"}, "404": {"$ref": "#/components/responses/NotFound"},
                      "409": {"description": "The job has ended", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}
      }
    },
    "/v1/jobs/{id}/results": {
      "get": {
        "summary": "The job's enriched leads in input order, streamed (chunked) while it runs: JSON lines, or CSV with format=csv",
        "parameters": [{"$ref": "#/components/parameters/JobId"},
                       {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["jsonl", "csv"], "default": "jsonl"}}],
        "responses": {"200": {"description": "One enriched lead per line", "content": {"application/x-ndjson": {"schema": {"type": "string"}}, "text/csv": {"schema": {"type": "string"}}}},
                      "401": {"$ref": "#/components/responses/Unauthorized"}, "404": {"$ref": "#/components/responses/NotFound"}}
      }
    }
  })json";
  static const char* kJobId = R"json({"name": "id", "in": "path", "required": true, "description": "A job id as POST /v1/jobs gave it", "schema": {"type": "string", "pattern": "^job_[A-Za-z0-9_]{1,60}$"}})json";
  static const char* kJob = R"json({
    "type": "object", "required": ["id", "state", "progress", "counts"],
    "properties": {
      "id": {"type": "string"},
      "state": {"type": "string", "enum": ["queued", "running", "finished", "failed", "cancelled"]},
      "created_at": {"type": "string"}, "started_at": {"type": "string", "nullable": true}, "finished_at": {"type": "string", "nullable": true},
      "spec": {"type": "object", "description": "campaign_id, or leads (their number); signals, webhook_url, progress_every"},
      "progress": {"type": "object", "properties": {"leads_done": {"type": "integer"}, "leads_total": {"type": "integer", "nullable": true}, "bad_rows": {"type": "integer"}}},
      "counts": {"type": "object", "properties": {"billed_lookups": {"type": "integer"}, "cache_hits": {"type": "integer"}, "from_journal": {"type": "integer"}, "attempts": {"type": "integer"}}},
      "run_id": {"type": "string", "nullable": true}, "error": {"type": "string", "nullable": true}, "results_url": {"type": "string"},
      "webhook": {"type": "object", "properties": {"url": {"type": "string"}, "deliveries_total": {"type": "integer"}, "deliveries": {"type": "array", "items": {"type": "object", "properties": {
        "id": {"type": "string"}, "event": {"type": "string"}, "state": {"type": "string", "enum": ["pending", "delivered", "failed"]},
        "attempts": {"type": "array", "items": {"type": "object", "properties": {"at": {"type": "string"}, "status": {"type": "integer", "nullable": true}, "error": {"type": "string", "nullable": true}}}}}}}}}
    }
  })json";
  auto member = [](Json& object, std::string_view key) -> Json& {
    for (auto& [name, value] : object.as_object()) {
      if (name == key) return value;
    }
    object.set(std::string(key), Json(Json::Object{}));
    return object.as_object().back().second;
  };
  Json& paths = member(document, "paths");
  Json routes = Json::parse(kPaths).value();
  for (auto& [path, item] : routes.as_object()) paths.set(path, item);
  Json& components = member(document, "components");
  member(components, "parameters").set("JobId", Json::parse(kJobId).value());
  member(components, "schemas").set("Job", Json::parse(kJob).value());
}


void JobRoutes::create(const Request& req, Response& res) {
  Result<JobSpec> spec = parse_spec(req.body, deps_.options);
  if (!spec.ok()) {
    send_error(res, 400, "invalid_argument", spec.status().message());
    return;
  }
  if (spec->campaign_id && !deps_.aturiya) {
    send_error(res, 503, "unavailable", "Aturiya is not configured (ATURIYA_BEARER_TOKEN, ATURIYA_USER_ID, ATURIYA_AGENT_ID)");
    return;
  }
  Result<std::string> id = jobs_->submit(std::move(spec).value());
  if (!id.ok()) {
    if (id.status().code() == StatusCode::kResourceExhausted) {
      res.set_header("Retry-After", "5");
      send_error(res, 429, "too_many_jobs", id.status().message());
    } else {
      res.set_header("Retry-After", "1");
      send_error(res, 503, "unavailable", id.status().message());
    }
    return;
  }
  Result<Json> job = jobs_->describe(*id);
  res.set_header("Location", "/v1/jobs/" + *id);
  send_json(res, 202, job.ok() ? *job : Json(Json::Object{{"id", Json(*id)}}));
}

void JobRoutes::list(const Request&, Response& res) { send_json(res, 200, jobs_->list()); }

void JobRoutes::get(const Request& req, Response& res) {
  std::optional<std::string> id = job_id_of(req, res);
  if (!id) return;
  Result<Json> job = jobs_->describe(*id);
  if (!job.ok()) {
    send_error(res, 404, "not_found", job.status().message());
    return;
  }
  send_json(res, 200, *job);
}

void JobRoutes::cancel(const Request& req, Response& res) {
  std::optional<std::string> id = job_id_of(req, res);
  if (!id) return;
  Status st = jobs_->cancel(*id);
  if (st.code() == StatusCode::kNotFound) {
    send_error(res, 404, "not_found", st.message());
    return;
  }
  if (!st.ok()) {
    send_error(res, 409, "conflict", st.message());
    return;
  }
  Result<Json> job = jobs_->describe(*id);
  send_json(res, 202, job.ok() ? *job : Json());
}

void JobRoutes::results(const Request& req, Response& res) {
  std::optional<std::string> id = job_id_of(req, res);
  if (!id) return;
  std::string format = req.has_param("format") ? req.get_param_value("format") : "jsonl";
  if (format != "jsonl" && format != "csv") {
    send_error(res, 400, "invalid_argument", "format must be jsonl or csv");
    return;
  }
  Result<JobManager::ResultsView> view = jobs_->wait_results(*id, 0, std::chrono::milliseconds(0));
  if (!view.ok()) {
    send_error(res, 404, "not_found", view.status().message());
    return;
  }
  if (req.method == "HEAD") {
    send_error(res, 405, "method_not_allowed", "results are sent with GET");
    return;
  }
  // Each stream holds a worker until its job ends: their number is bounded.
  if (streams_.fetch_add(1) >= max_streams_) {
    streams_.fetch_sub(1);
    res.set_header("Retry-After", "5");
    send_error(res, 503, "unavailable", fmt::format("{} result streams are open already: try again later", max_streams_));
    return;
  }
  struct Release {
    std::atomic<std::size_t>& n;
    ~Release() { n.fetch_sub(1); }
  } release{streams_};

  // The answer is written here, chunk by chunk as the job's results grow: cpp-httplib's content
  // providers need its own accept loop, which the server does not use.
  bool csv = format == "csv";
  res.status = 200;
  res.set_header("Content-Type", csv ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8");
  res.set_header("Cache-Control", "no-store");
  res.set_header("Content-Disposition", fmt::format("attachment; filename=\"{}.{}\"", *id, format));
  res.set_header("Connection", "close");  // the connection ends with the stream
  bool alive = stream_current_head(res);  // with the CORS headers set before routing
  std::string pending;  // CSV: the start of a line whose end was not read yet
  if (alive && csv) {
    std::vector<std::string> header(csv_columns().begin(), csv_columns().end());
    std::string text;
    append_csv_record(text, header);
    alive = stream_current_chunk(text);
  }
  std::size_t offset = 0;
  std::FILE* in = nullptr;
  std::string block;
  while (alive) {
    Result<JobManager::ResultsView> now = jobs_->wait_results(*id, offset, kStreamPoll);
    if (!now.ok()) break;  // the job was removed
    if (now->bytes > offset) {
      if (in == nullptr) in = std::fopen(now->path.c_str(), "rb");
      if (in == nullptr || std::fseek(in, static_cast<long>(offset), SEEK_SET) != 0) break;
      while (alive && offset < now->bytes) {
        block.resize(std::min(kReadBlock, now->bytes - offset));
        std::size_t got = std::fread(block.data(), 1, block.size(), in);
        if (got == 0) break;
        block.resize(got);
        offset += got;
        if (!csv) {
          alive = stream_current_chunk(block);
          continue;
        }
        pending += block;
        std::string text;
        std::size_t start = 0;
        for (std::size_t nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n', start)) {
          Result<EnrichedLead> lead = parse_enriched_lead(std::string_view(pending).substr(start, nl - start));
          if (lead.ok()) append_csv_record(text, csv_cells(*lead));
          start = nl + 1;
        }
        pending.erase(0, start);
        alive = stream_current_chunk(text);
      }
      if (offset < now->bytes) break;  // the file is shorter than the job says: stop, never loop
    }
    if (now->ended && offset >= now->bytes) {
      alive = end_current_stream();
      break;
    }
  }
  if (in != nullptr) std::fclose(in);
}

}  // namespace leadenrich::internal
