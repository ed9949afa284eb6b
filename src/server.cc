// leadenrich-server: routes over cpp-httplib's request parser and router, behind our own
// connection front (internal/http_front.h: accept, limits, deadlines, workers, drain). Every
// request passes one pre-routing step (host, origin, CORS, auth, ids), one handler, and one logger
// (a log line and the metrics).
//
// Two APIs: the original pipeline's four routes under /api/, in its shapes and FastAPI's error
// bodies (shared/contracts/original-api.md, so its frontend and agents work unchanged), and
// leadenrich's own, richer API under /v1/.
#include "leadenrich/server.h"

#include <httplib.h>

#include <arpa/inet.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>

#include <fmt/format.h>

#include "internal/api_keys.h"
#include "internal/http_front.h"
#include "internal/mcp_http.h"
#include "internal/openapi.h"
#include "internal/server_jobs.h"
#include "internal/stored_result.h"
#include "internal/server_metrics.h"
#include "leadenrich/aturiya.h"
#include "leadenrich/engine.h"
#include "leadenrich/identity.h"
#include "leadenrich/output.h"
#include "leadenrich/store.h"
#include "leadenrich/version.h"

namespace leadenrich {
namespace {

using httplib::Request;
using httplib::Response;
using SteadyClock = std::chrono::steady_clock;

constexpr std::size_t kDefaultPerPage = 50;
/// GET /api/campaigns/{id}/leads follows Aturiya's pages up to this many (100,000 leads in one
/// answer), so an upstream that always says "next page" cannot hold a worker forever.
constexpr std::size_t kMaxOriginalLeadPages = 2000;

/// The routes, for registration and for the metrics' route label.
struct Route {
  const char* method;
  const char* label;    ///< the OpenAPI path
  const char* pattern;  ///< cpp-httplib's full-match regex
};
constexpr Route kRoutes[] = {
    // The original pipeline's routes (its path parameter names, as its OpenAPI had them).
    {"GET", "/api/health", "/api/health"},
    {"GET", "/api/campaigns", "/api/campaigns"},
    {"GET", "/api/campaigns/{campaign_id}/leads", "/api/campaigns/([^/]+)/leads"},
    {"POST", "/api/leads/{lead_id}/enrich", "/api/leads/([^/]+)/enrich"},
    // leadenrich's own API.
    {"GET", "/v1/campaigns", "/v1/campaigns"},
    {"GET", "/v1/campaigns/{id}/leads", "/v1/campaigns/([^/]+)/leads"},
    {"POST", "/v1/leads/{id}/enrich", "/v1/leads/([^/]+)/enrich"},
    {"GET", "/v1/leads/{id}/enrichment", "/v1/leads/([^/]+)/enrichment"},
    {"POST", "/v1/enrich", "/v1/enrich"},
    // Descriptions and operations.
    {"GET", "/openapi.json", "/openapi.json"},
    {"GET", "/docs", "/docs"},
    {"GET", "/metrics", "/metrics"},
    {"POST", "/mcp", "/mcp"},
    {"GET", "/mcp", "/mcp"},
    {"DELETE", "/mcp", "/mcp"},
};

/// The original pipeline's API: its routes answer in its shapes, and every answer under /api/
/// (errors included) is what FastAPI wrote: {"detail": ...}.
bool original_api_path(std::string_view path) { return path.rfind("/api/", 0) == 0; }
/// leadenrich's own API.
bool v1_api_path(std::string_view path) { return path.rfind("/v1/", 0) == 0; }

/// The metrics' route label of a request, from a fixed set: a route's template, "static",
/// "method_not_allowed" or "unmatched". `path` is as received (not percent-decoded), so an encoded
/// slash cannot make an id look like several segments.
std::string route_label(std::string_view method, const std::string& path) {
  static const std::vector<Route> routes = [] {
    std::vector<Route> out(std::begin(kRoutes), std::end(kRoutes));
    for (const auto& r : internal::JobRoutes::routes()) out.push_back(Route{r.method, r.label, r.pattern});
    return out;
  }();
  static const std::vector<std::regex> patterns = [] {
    std::vector<std::regex> out;
    for (const Route& r : routes) out.emplace_back(r.pattern);
    return out;
  }();
  // HEAD is GET without the body, and OPTIONS is the CORS preflight of the route it names. A path
  // may have several routes (one per method).
  bool get_like = method == "GET" || method == "HEAD";
  bool path_known = false;
  for (std::size_t i = 0; i < routes.size(); ++i) {
    if (!std::regex_match(path, patterns[i])) continue;
    path_known = true;
    bool allowed = method == routes[i].method || method == "OPTIONS" || (get_like && routes[i].method == std::string_view("GET"));
    if (allowed) return routes[i].label;
  }
  if (path_known) return "method_not_allowed";
  if (get_like && !original_api_path(path) && !v1_api_path(path)) return "static";
  return "unmatched";
}

/// The path of a request target as received: without the query, not percent-decoded.
std::string raw_path(const std::string& target) { return target.substr(0, target.find('?')); }

/// Percent-decoding of one path segment; nullopt for a malformed escape.
std::optional<std::string> decode_segment(std::string_view raw) {
  std::string out;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '%') {
      out += raw[i];
      continue;
    }
    if (i + 2 >= raw.size() || !std::isxdigit(static_cast<unsigned char>(raw[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(raw[i + 2]))) {
      return std::nullopt;
    }
    out += static_cast<char>(std::stoi(std::string(raw.substr(i + 1, 2)), nullptr, 16));
    i += 2;
  }
  return out;
}

/// The id in a route's {id} position, decoded, when `path` (as received) has the shape of a
/// route with an id that reaches an upstream URL or the store: "/v1/leads/{id}/enrich",
/// "/v1/leads/{id}/enrichment", "/v1/campaigns/{id}/leads" or "/api/campaigns/{campaign_id}/leads".
/// (The original's "/api/leads/{lead_id}/enrich" does not use its id: the body is the lead.)
struct PathId {
  std::string what;  ///< "lead" or "campaign"
  std::optional<std::string> id;
};
std::optional<PathId> id_in_path(std::string_view path) {
  for (auto [prefix, suffixes, what] : {std::tuple{std::string_view("/v1/leads/"), std::vector<std::string_view>{"/enrich", "/enrichment"}, "lead"},
                                        std::tuple{std::string_view("/v1/campaigns/"), std::vector<std::string_view>{"/leads"}, "campaign"},
                                        std::tuple{std::string_view("/api/campaigns/"), std::vector<std::string_view>{"/leads"}, "campaign"}}) {
    if (path.rfind(prefix, 0) != 0) continue;
    for (std::string_view suffix : suffixes) {
      if (path.size() <= prefix.size() + suffix.size() || path.substr(path.size() - suffix.size()) != suffix) continue;
      std::string_view raw = path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
      if (raw.find('/') != std::string_view::npos) continue;
      return PathId{what, decode_segment(raw)};
    }
  }
  return std::nullopt;
}

/// The host name of a Host header value ("name:port", "[v6]:port"), lower-cased.
std::string host_name(std::string_view host) {
  std::string_view name = host;
  if (!name.empty() && name.front() == '[') {
    name = name.substr(0, name.find(']') == std::string_view::npos ? name.size() : name.find(']') + 1);
  } else if (std::size_t colon = name.rfind(':'); colon != std::string_view::npos) {
    name = name.substr(0, colon);
  }
  std::string out(name);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// An IPv4 or a bracketed IPv6 literal: no DNS answer can make such a Host name another server.
bool is_ip_literal(const std::string& name) {
  unsigned char buf[sizeof(in6_addr)];
  if (name.size() > 2 && name.front() == '[' && name.back() == ']') {
    return ::inet_pton(AF_INET6, name.substr(1, name.size() - 2).c_str(), buf) == 1;
  }
  return ::inet_pton(AF_INET, name.c_str(), buf) == 1;
}

bool starts_with_ci(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != std::tolower(static_cast<unsigned char>(prefix[i]))) return false;
  }
  return true;
}

/// Per request, on the worker thread that answers it.
struct RequestContext {
  SteadyClock::time_point start{};
  bool started = false;
  bool close = false;  ///< the response closes the connection
  /// The request is under /api/: errors are written as the original's FastAPI wrote them. Set
  /// by the pre-routing step, read by send_error (every error of a request is written on its
  /// worker thread, after that step).
  bool original_errors = false;
};
thread_local RequestContext t_request;

void send_json(Response& res, int status, const Json& body) {
  res.status = status;
  // With a charset, cpp-httplib does not compress: the API's answers are small.
  res.set_content(body.dump(), "application/json; charset=utf-8");
}

/// An error: {"error": {"code", "message"}} on leadenrich's own routes, {"detail": message} (as
/// FastAPI writes it) under /api/.
void send_error(Response& res, int status, std::string_view code, std::string_view message) {
  if (t_request.original_errors) {
    send_json(res, status, Json(Json::Object{{"detail", Json(message)}}));
    return;
  }
  Json::Object error{{"code", Json(code)}, {"message", Json(message)}};
  send_json(res, status, Json(Json::Object{{"error", Json(std::move(error))}}));
}

/// FastAPI's 422: {"detail": [{"loc": ["body", ...], "msg", "type"}, ...]}.
struct ValidationError {
  Json::Array loc;
  std::string msg;
  std::string type;
};
void send_validation_errors(Response& res, const std::vector<ValidationError>& errors) {
  Json::Array detail;
  for (const ValidationError& e : errors) {
    detail.emplace_back(Json::Object{{"loc", Json(e.loc)}, {"msg", Json(e.msg)}, {"type", Json(e.type)}});
  }
  send_json(res, 422, Json(Json::Object{{"detail", Json(std::move(detail))}}));
}

/// The original's RawLead model (pydantic): four required strings, twelve optional ones (null
/// allowed), unknown keys ignored. Returns the errors pydantic would report, in field order.
std::vector<ValidationError> validate_original_lead(const Json& body) {
  if (!body.is_object()) {
    return {{Json::Array{Json("body")}, "Input should be a valid dictionary or object to extract fields from",
             "model_attributes_type"}};
  }
  static constexpr std::string_view kRequired[] = {"lead_id", "agent_id", "campaign_id", "name"};
  std::vector<ValidationError> errors;
  for (std::string_view field : raw_lead_field_names()) {
    bool required = std::find(std::begin(kRequired), std::end(kRequired), field) != std::end(kRequired);
    const Json* v = body.find(field);
    if (v == nullptr) {
      if (required) errors.push_back({Json::Array{Json("body"), Json(field)}, "Field required", "missing"});
    } else if (!v->is_string() && !(v->is_null() && !required)) {
      errors.push_back({Json::Array{Json("body"), Json(field)}, "Input should be a valid string", "string_type"});
    }
  }
  return errors;
}

/// An error from a call to `api` (Aturiya or pipe0) as the HTTP answer a client can act on.
/// Our own credentials being refused upstream is the server's problem, not the caller's: 502.
void send_upstream_error(Response& res, std::string_view api, const Status& st) {
  switch (st.code()) {
    case StatusCode::kNotFound:
      send_error(res, 404, "not_found", st.message());
      return;
    case StatusCode::kDeadlineExceeded:
      send_error(res, 504, "upstream_timeout", fmt::format("{} did not answer in time: {}", api, st.message()));
      return;
    default:
      send_error(res, 502, "upstream_error", fmt::format("{} failed: {}", api, st.to_string()));
      return;
  }
}

/// The failures of a lead that came from pipe0 being unreachable or refusing us, if no signal got
/// an answer at all: then the caller gets 502/504 instead of a lead full of failures.
std::optional<Status> upstream_failure(const EnrichedLead& lead) {
  std::optional<Status> failure;
  for (Signal s : kAllSignals) {
    const SignalResult& r = lead.result(s);
    if (r.status == SignalStatus::kFound || r.status == SignalStatus::kNoResult) return std::nullopt;
    if (r.status != SignalStatus::kFailed || !r.reason) continue;
    StatusCode code = r.reason->code == "deadline_exceeded" ? StatusCode::kDeadlineExceeded : StatusCode::kUnavailable;
    if (!failure || code == StatusCode::kDeadlineExceeded) {
      failure = Status(code, fmt::format("{}: {}", r.reason->code, r.reason->message));
    }
  }
  return failure;
}

/// cpp-httplib's parser, router and response writer, answering one request at a time from the
/// stream the front hands over (its own accept loop and keep-alive handling are not used).
class HttpServer : public httplib::Server {
 public:
  /// Answers one request; returns whether the connection may carry another.
  bool serve_one(httplib::Stream& stream, bool close_connection) {
    bool connection_closed = false;
    t_request.close = false;
    t_request.original_errors = false;  // until the pre-routing step has seen the path
    bool ok = process_request(stream, close_connection, connection_closed, [](Request&) {});
    return ok && !connection_closed && !t_request.close;
  }
};

}  // namespace

std::vector<Secret> parse_api_keys(std::string_view list) {
  std::vector<Secret> keys;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view key = list.substr(start, comma - start);
    while (!key.empty() && (key.front() == ' ' || key.front() == '\t')) key.remove_prefix(1);
    while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.remove_suffix(1);
    if (!key.empty()) keys.emplace_back(std::string(key));
    start = comma + 1;
  }
  return keys;
}

bool api_key_matches(const std::vector<Secret>& keys, std::string_view candidate) {
  // Every key is compared over the candidate's full length, whatever matched before, so the time
  // taken says nothing about which key or how many leading bytes matched.
  unsigned matched = 0;
  for (const Secret& key : keys) {
    const std::string& k = key.reveal();
    unsigned diff = k.size() == candidate.size() ? 0u : 1u;
    for (std::size_t i = 0; i < candidate.size(); ++i) {
      unsigned char a = static_cast<unsigned char>(candidate[i]);
      unsigned char b = k.empty() ? 0 : static_cast<unsigned char>(k[i % k.size()]);
      diff |= static_cast<unsigned>(a ^ b);
    }
    matched |= static_cast<unsigned>(diff == 0 && !k.empty());
  }
  return matched != 0;
}

struct Server::State {
  ServerOptions options;
  ServerBackend backend;
  HttpServer http;
  internal::ServerMetrics metrics;
  std::string index_html;  ///< non-empty when the UI is not built: a page saying how to build it
  std::string docs_html;   ///< the interactive API docs page (web/docs.html built), or how to build it
  std::unique_ptr<internal::HttpFront> front;
  std::unique_ptr<internal::JobRoutes> jobs;  ///< /v1/jobs (server_jobs.cc)
  std::unique_ptr<internal::mcp::HttpTransport> mcp;  ///< /mcp (docs/mcp.md)
  int port = 0;
  std::mutex mu;
  std::condition_variable stopped_cv;
  bool stopped = false;

  void log(const std::string& line) const {
    if (options.log) options.log(line);
  }

  EngineOptions engine_options() const {
    EngineOptions o;
    o.sandbox = options.sandbox;
    return o;
  }

  // ---- pre-routing: host, origin, CORS, auth, ids ----

  /// With no API key, any web page a user opens could call this server through the browser;
  /// these checks (the browser cannot forge Host, Origin or a JSON Content-Type without a
  /// preflight) refuse such calls. True when refused (the answer is written).
  bool refuse_cross_site(const Request& req, Response& res) {
    std::string host = req.get_header_value("Host");
    std::string name = host_name(host);
    // DNS rebinding: a page at attacker.example whose name now resolves to this address. Its
    // requests carry Host: attacker.example; names of this server, and IP literals, are fine.
    bool host_ok = host.empty() || is_ip_literal(name) || name == "localhost" || name == host_name(options.host);
    for (const std::string& allowed : options.allowed_hosts) host_ok = host_ok || name == host_name(allowed);
    if (!host_ok) {
      send_error(res, 403, "forbidden",
                 "Host is not a name of this server: add it to LEADENRICH_ALLOWED_HOSTS to serve it without API keys");
      return true;
    }
    if (req.has_header("Origin")) {
      std::string origin = req.get_header_value("Origin");
      bool origin_ok = !host.empty() && (origin == "http://" + host || origin == "https://" + host);
      for (const std::string& allowed : options.cors_origins) origin_ok = origin_ok || allowed == origin || allowed == "*";
      if (!origin_ok) {
        send_error(res, 403, "forbidden",
                   "cross-site request refused: the Origin is neither this server nor in LEADENRICH_CORS_ORIGINS");
        return true;
      }
    }
    // A form or a no-preflight fetch can only send text/plain, form or multipart bodies.
    // Called before the body is read; the front gives every request its Content-Length.
    if (std::string length = req.get_header_value("Content-Length"); !length.empty() && length != "0") {
      std::string type = req.get_header_value("Content-Type");
      type = type.substr(0, type.find(';'));
      while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.pop_back();
      for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (type != "application/json") {
        send_error(res, 415, "unsupported_media_type", "request body: send it with Content-Type: application/json");
        return true;
      }
    }
    return false;
  }

  httplib::Server::HandlerResponse pre_route(const Request& req, Response& res) {
    t_request.start = SteadyClock::now();
    if (!t_request.started) metrics.in_flight(+1);  // started: the last request here was never logged
    t_request.started = true;
    t_request.original_errors = original_api_path(req.path);
    if (req.path.find('\0') != std::string::npos) {
      // No file or route has a NUL in its name; the file handler would cut the name there
      // ("/index.html%00.js" would serve index.html as JavaScript).
      send_error(res, 404, "not_found", "no such route");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (options.insecure_no_auth && refuse_cross_site(req, res)) return httplib::Server::HandlerResponse::Handled;
    bool cors_allowed = false;
    if (!options.cors_origins.empty() && req.has_header("Origin")) {
      std::string origin = req.get_header_value("Origin");
      for (const std::string& allowed : options.cors_origins) {
        if (allowed == origin || allowed == "*") cors_allowed = true;
      }
      if (cors_allowed) {
        res.set_header("Access-Control-Allow-Origin", origin);
        res.set_header("Access-Control-Expose-Headers", "Mcp-Session-Id");
        res.set_header("Vary", "Origin");
      }
    }
    if (req.method == "OPTIONS") {
      if (!cors_allowed) {
        send_error(res, 404, "not_found", "no such route");
        return httplib::Server::HandlerResponse::Handled;
      }
      res.status = 204;
      res.set_header("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
      res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type, Mcp-Session-Id, MCP-Protocol-Version");
      res.set_header("Access-Control-Max-Age", "600");
      return httplib::Server::HandlerResponse::Handled;
    }
    bool needs_key = (original_api_path(req.path) && req.path != "/api/health") || v1_api_path(req.path) ||
                     req.path == "/metrics" || req.path == "/mcp";
    if (needs_key && !options.insecure_no_auth) {
      std::string header = req.get_header_value("Authorization");
      // The scheme is case-insensitive (RFC 9110 section 11.1); the key is not.
      constexpr std::string_view kBearer = "Bearer ";
      std::string_view key;
      if (starts_with_ci(header, kBearer)) {
        key = std::string_view(header).substr(kBearer.size());
        while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
      }
      if (key.empty() || !api_key_matches(options.api_keys, key)) {
        res.set_header("WWW-Authenticate", "Bearer");
        send_error(res, 401, "unauthorized",
                   header.empty() ? "missing API key: send Authorization: Bearer <key>" : "invalid API key");
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    // Ids are checked as received, before the router sees the decoded path: an encoded slash
    // would otherwise make "a%2Fb" two segments and no route at all.
    if (std::optional<PathId> id = id_in_path(raw_path(req.target)); id && (!id->id || !internal::valid_api_id(*id->id))) {
      send_error(res, 400, "invalid_argument", fmt::format("invalid {} id", id->what));
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  }

  // ---- handlers ----
  void health(const Request&, Response& res) {
    send_json(res, 200,
              Json(Json::Object{{"status", Json("ok")},
                                {"version", Json(kVersion)},
                                {"sandbox", Json(options.sandbox)},
                                {"auth", Json(!options.insecure_no_auth)},
                                {"max_batch", Json(static_cast<std::int64_t>(options.max_batch))}}));
  }

  bool need_aturiya(Response& res) {
    if (backend.aturiya) return true;
    send_error(res, 503, "unavailable", "Aturiya is not configured (ATURIYA_BEARER_TOKEN, ATURIYA_USER_ID, ATURIYA_AGENT_ID)");
    return false;
  }

  /// Aturiya's campaigns as JSON, or nullopt after answering the error (either API's shape).
  std::optional<Json> fetch_campaigns(Response& res) {
    if (!need_aturiya(res)) return std::nullopt;
    Result<std::vector<Campaign>> list = backend.aturiya->campaigns();
    if (!list.ok()) {
      metrics.upstream_error("aturiya", std::string(to_string(list.status().code())));
      send_upstream_error(res, "Aturiya", list.status());
      return std::nullopt;
    }
    return campaigns_json(*list);
  }

  void campaigns(const Request&, Response& res) {
    if (std::optional<Json> list = fetch_campaigns(res)) {
      send_json(res, 200, Json(Json::Object{{"campaigns", std::move(*list)}}));
    }
  }

  /// Campaigns as Aturiya sent them: id, name, then its other keys.
  static Json campaigns_json(const std::vector<Campaign>& list) {
    Json::Array out;
    for (const Campaign& c : list) {
      Json::Object o{{"id", Json(c.id)}, {"name", Json(c.name)}};
      for (const auto& member : c.extra) o.push_back(member);
      out.emplace_back(std::move(o));
    }
    return Json(std::move(out));
  }

  /// A positive integer query parameter, or `fallback` when absent; nullopt (after a 400) when bad.
  static std::optional<std::size_t> query_number(const Request& req, Response& res, const char* name,
                                                 std::size_t fallback, std::size_t max) {
    if (!req.has_param(name)) return fallback;
    std::string text = req.get_param_value(name);
    std::size_t value = 0;
    bool ok = !text.empty() && text.size() <= 9;
    for (char c : text) ok = ok && c >= '0' && c <= '9';
    if (ok) value = std::stoul(text);
    if (!ok || value < 1 || value > max) {
      send_error(res, 400, "invalid_argument", fmt::format("{} must be a whole number from 1 to {}", name, max));
      return std::nullopt;
    }
    return value;
  }

  void campaign_leads(const Request& req, Response& res) {
    std::string campaign_id = req.matches[1];
    if (!internal::valid_api_id(campaign_id)) {
      send_error(res, 400, "invalid_argument", "invalid campaign id");
      return;
    }
    std::optional<std::size_t> page = query_number(req, res, "page", 1, 100000);
    if (!page) return;
    std::optional<std::size_t> per_page = query_number(req, res, "per_page", kDefaultPerPage, options.max_per_page);
    if (!per_page) return;
    if (!need_aturiya(res)) return;
    Result<AturiyaConnection::Page> got = backend.aturiya->leads_page(campaign_id, *page, *per_page);
    if (!got.ok()) {
      metrics.upstream_error("aturiya", std::string(to_string(got.status().code())));
      send_upstream_error(res, "Aturiya", got.status());
      return;
    }
    Json::Array leads;
    Json::Array bad;
    for (std::size_t i = 0; i < got->leads.size(); ++i) {
      const Result<RawLead>& lead = got->leads[i];
      if (!lead.ok()) {
        bad.emplace_back(Json::Object{{"index", Json(static_cast<std::int64_t>(i))},
                                      {"error", Json(lead.status().message())}});
        continue;
      }
      Json enrichment;
      Result<std::optional<std::string>> stored = backend.store->lead_result(lead->lead_id);
      if (stored.ok() && stored->has_value()) enrichment = internal::stored_result_summary(**stored);
      leads.emplace_back(Json::Object{{"lead", to_json(*lead)}, {"enrichment", std::move(enrichment)}});
    }
    send_json(res, 200,
              Json(Json::Object{{"campaign_id", Json(campaign_id)},
                                {"page", Json(static_cast<std::int64_t>(*page))},
                                {"per_page", Json(static_cast<std::int64_t>(*per_page))},
                                {"has_next", Json(got->has_next)},
                                {"leads", Json(std::move(leads))},
                                {"bad_leads", Json(std::move(bad))}}));
  }

  /// The runtime path for one lead: a small sync request, or none when the store has it all.
  Result<std::vector<EnrichedLead>> enrich_single(const RawLead& lead) {
    Result<EnrichedLead> one = backend.enricher->enrich_one(lead, engine_options());
    if (!one.ok()) return one.status();
    return std::vector<EnrichedLead>{std::move(one).value()};
  }

  /// Enriches `leads` (requests needing the same lookup at once share it: the Enricher's single
  /// flight) and stores each result. Fails when pipe0 did (the caller answers 502/504): the whole
  /// run, or every signal of every lead.
  Result<std::vector<EnrichedLead>> enrich(const std::vector<RawLead>& leads) {
    Result<std::vector<EnrichedLead>> out = leads.size() == 1 ? enrich_single(leads.front())
                                                              : backend.enricher->enrich(leads, engine_options());
    if (!out.ok()) {
      metrics.upstream_error("pipe0", std::string(to_string(out.status().code())));
      return out.status();
    }
    std::optional<Status> all_failed;
    for (const EnrichedLead& lead : *out) {
      std::optional<Status> failure = upstream_failure(lead);
      if (!failure) {
        all_failed.reset();
        break;
      }
      if (!all_failed || failure->code() == StatusCode::kDeadlineExceeded) all_failed = failure;
    }
    bool any_failed = false;
    for (const EnrichedLead& lead : *out) {
      for (Signal s : kAllSignals) any_failed = any_failed || lead.result(s).status == SignalStatus::kFailed;
    }
    if (all_failed) {
      metrics.upstream_error("pipe0", std::string(to_string(all_failed->code())));
      return *all_failed;
    }
    if (any_failed) metrics.upstream_error("pipe0", "partial");
    Timestamp now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    for (const EnrichedLead& lead : *out) {
      metrics.enriched(lead);
      Status saved = backend.store->save_lead_result(lead, now);
      if (!saved.ok()) log(fmt::format("warning: result of lead {} not saved: {}", lead.lead.lead_id, saved.to_string()));
    }
    return std::move(out).value();
  }

  static bool blank(std::string_view body) {
    return body.find_first_not_of(" \t\r\n") == std::string_view::npos;
  }

  void enrich_lead(const Request& req, Response& res) {
    std::string lead_id = req.matches[1];
    if (!internal::valid_api_id(lead_id)) {
      send_error(res, 400, "invalid_argument", "invalid lead id");
      return;
    }
    RawLead lead;
    if (blank(req.body)) {
      if (!need_aturiya(res)) return;
      Result<RawLead> fetched = backend.aturiya->lead(lead_id);
      if (!fetched.ok()) {
        if (fetched.status().code() != StatusCode::kNotFound) {
          metrics.upstream_error("aturiya", std::string(to_string(fetched.status().code())));
        }
        send_upstream_error(res, "Aturiya", fetched.status());
        return;
      }
      lead = std::move(fetched).value();
    } else {
      Result<RawLead> parsed = parse_raw_lead(req.body);
      if (!parsed.ok()) {
        send_error(res, 400, "invalid_argument", fmt::format("request body: {}", parsed.status().message()));
        return;
      }
      if (parsed->lead_id != lead_id) {
        send_error(res, 400, "invalid_argument",
                   fmt::format("request body: lead_id \"{}\" does not match the path's \"{}\"", parsed->lead_id, lead_id));
        return;
      }
      lead = std::move(parsed).value();
    }
    Result<std::vector<EnrichedLead>> out = enrich({lead});
    if (!out.ok()) {
      send_upstream_error(res, "pipe0", out.status());
      return;
    }
    send_json(res, 200, to_json(out->front()));
  }

  void enrichment(const Request& req, Response& res) {
    std::string lead_id = req.matches[1];
    if (!internal::valid_api_id(lead_id)) {
      send_error(res, 400, "invalid_argument", "invalid lead id");
      return;
    }
    Result<std::optional<std::string>> stored = backend.store->lead_result(lead_id);
    if (!stored.ok()) {
      send_error(res, 500, "internal", stored.status().to_string());
      return;
    }
    if (!stored->has_value()) {
      send_error(res, 404, "not_found", fmt::format("no enrichment stored for lead {}", lead_id));
      return;
    }
    res.status = 200;
    res.set_content(std::move(**stored), "application/json; charset=utf-8");
  }

  void enrich_batch(const Request& req, Response& res) {
    Result<Json> body = Json::parse(req.body);
    if (!body.ok()) {
      send_error(res, 400, "invalid_argument", fmt::format("request body: {}", body.status().message()));
      return;
    }
    const Json* list = body->is_array() ? &*body : body->find("leads");
    if (list == nullptr || !list->is_array()) {
      send_error(res, 400, "invalid_argument", "request body: expected {\"leads\": [...]}");
      return;
    }
    if (list->as_array().empty()) {
      send_error(res, 400, "invalid_argument", "request body: leads is empty");
      return;
    }
    if (list->as_array().size() > options.max_batch) {
      send_error(res, 400, "too_many_leads",
                 fmt::format("request body: {} leads, at most {} per request", list->as_array().size(), options.max_batch));
      return;
    }
    std::vector<RawLead> leads;
    for (std::size_t i = 0; i < list->as_array().size(); ++i) {
      Result<RawLead> lead = raw_lead_from_json(list->as_array()[i]);
      if (!lead.ok()) {
        send_error(res, 400, "invalid_argument", fmt::format("request body: leads[{}]: {}", i, lead.status().message()));
        return;
      }
      if (!internal::valid_api_id(lead->lead_id)) {
        send_error(res, 400, "invalid_argument", fmt::format("request body: leads[{}]: invalid lead_id", i));
        return;
      }
      leads.push_back(std::move(lead).value());
    }
    Result<std::vector<EnrichedLead>> out = enrich(leads);
    if (!out.ok()) {
      send_upstream_error(res, "pipe0", out.status());
      return;
    }
    Json::Array items;
    std::int64_t billed = 0;
    std::int64_t cache_hits = 0;
    for (const EnrichedLead& lead : *out) {
      billed += lead.billed_lookups;
      for (Signal s : kAllSignals) cache_hits += lead.result(s).from_cache ? 1 : 0;
      items.push_back(to_json(lead));
    }
    Json::Object summary{{"leads", Json(static_cast<std::int64_t>(out->size()))},
                         {"billed_lookups", Json(billed)},
                         {"cache_hits", Json(cache_hits)}};
    send_json(res, 200, Json(Json::Object{{"leads", Json(std::move(items))}, {"summary", Json(std::move(summary))}}));
  }

  // ---- the original pipeline's routes (shared/contracts/original-api.md) ----

  /// A plain list of the campaigns, as Aturiya's `data` holds them.
  void original_campaigns(const Request&, Response& res) {
    if (std::optional<Json> list = fetch_campaigns(res)) send_json(res, 200, *list);
  }

  /// Every lead of the campaign in one plain list: all Aturiya pages, 50 a page as the original
  /// fetched them, each lead with the original's 16 fields (it ignored other keys).
  void original_campaign_leads(const Request& req, Response& res) {
    std::string campaign_id = req.matches[1];
    if (!need_aturiya(res)) return;
    Json::Array out;
    std::size_t unusable = 0;
    for (std::size_t page = 1;; ++page) {
      if (page > kMaxOriginalLeadPages) {
        // Never a silently short list: the original would have kept paging.
        send_error(res, 502, "upstream_error",
                   fmt::format("Aturiya has more than {} pages of {} leads for campaign {}: page through "
                               "GET /v1/campaigns/{}/leads instead",
                               kMaxOriginalLeadPages, kDefaultPerPage, campaign_id, campaign_id));
        return;
      }
      Result<AturiyaConnection::Page> got = backend.aturiya->leads_page(campaign_id, page, kDefaultPerPage);
      if (!got.ok()) {
        if (got.status().code() != StatusCode::kNotFound) {
          metrics.upstream_error("aturiya", std::string(to_string(got.status().code())));
        }
        send_upstream_error(res, "Aturiya", got.status());
        return;
      }
      for (Result<RawLead>& lead : got->leads) {
        if (!lead.ok()) {
          ++unusable;
          continue;
        }
        lead->extra.clear();
        out.push_back(to_json(*lead));
      }
      if (!got->has_next) break;
    }
    if (unusable > 0) {
      log(fmt::format("warning: campaign {}: {} leads from Aturiya without a usable lead_id left out of the list",
                      campaign_id, unusable));
    }
    send_json(res, 200, Json(std::move(out)));
  }

  /// The body is the lead (the path's id is not used, as in the original); the answer is the
  /// original's EnrichedLead. The result is stored like /v1's, so GET /v1/leads/{id}/enrichment
  /// has it too.
  void original_enrich(const Request& req, Response& res) {
    if (blank(req.body)) {
      send_validation_errors(res, {{Json::Array{Json("body")}, "Field required", "missing"}});
      return;
    }
    Result<Json> body = Json::parse(req.body);
    if (!body.ok()) {
      send_validation_errors(res, {{Json::Array{Json("body")}, fmt::format("JSON decode error: {}", body.status().message()),
                                    "json_invalid"}});
      return;
    }
    if (std::vector<ValidationError> errors = validate_original_lead(*body); !errors.empty()) {
      send_validation_errors(res, errors);
      return;
    }
    Result<RawLead> lead = raw_lead_from_json(*body);
    if (!lead.ok()) {  // an empty lead_id: leadenrich keys results by it
      send_validation_errors(res, {{Json::Array{Json("body"), Json("lead_id")}, lead.status().message(), "value_error"}});
      return;
    }
    lead->extra.clear();
    Result<std::vector<EnrichedLead>> out = enrich({*lead});
    if (!out.ok()) {
      send_upstream_error(res, "pipe0", out.status());
      return;
    }
    send_json(res, 200, to_original_json(out->front()));
  }

  // ---- after every response: the log line and the metrics ----
  void after(const Request& req, const Response& res) {
    auto took = t_request.started ? SteadyClock::now() - t_request.start : SteadyClock::duration::zero();
    if (t_request.started) metrics.in_flight(-1);
    t_request.started = false;
    t_request.close = res.get_header_value("Connection") == "close";
    std::string_view method = internal::method_label(req.method);
    metrics.request(std::string(method), route_label(method, raw_path(req.target)), res.status, took);
    // The path is decoded (%0a is a line feed, %1b an escape): never written to the log raw.
    log(fmt::format("{} {} {} {:.2f}ms", internal::escape_for_log(req.method), internal::escape_for_log(req.path),
                    res.status, std::chrono::duration<double, std::milli>(took).count()));
  }

  /// A request the front answered itself (over a limit, too slow, malformed, or while stopping).
  void refused(const internal::FrontRefusal& r) {
    std::string_view method = internal::method_label(r.method);
    metrics.request(std::string(method), route_label(method, r.path), r.status, SteadyClock::duration::zero());
    log(fmt::format("{} {} {} (answered by the front)", r.method.empty() ? "-" : internal::escape_for_log(r.method),
                    r.path.empty() ? "-" : internal::escape_for_log(r.path), r.status));
  }

  void routes() {
    auto bind = [this](void (State::*handler)(const Request&, Response&)) {
      return [this, handler](const Request& q, Response& r) { (this->*handler)(q, r); };
    };
    // The original pipeline's API.
    http.Get("/api/health", bind(&State::health));
    http.Get("/api/campaigns", bind(&State::original_campaigns));
    http.Get("/api/campaigns/([^/]+)/leads", bind(&State::original_campaign_leads));
    http.Post("/api/leads/([^/]+)/enrich", bind(&State::original_enrich));
    // leadenrich's own API.
    http.Get("/v1/campaigns", bind(&State::campaigns));
    http.Get("/v1/campaigns/([^/]+)/leads", bind(&State::campaign_leads));
    http.Post("/v1/leads/([^/]+)/enrich", bind(&State::enrich_lead));
    http.Get("/v1/leads/([^/]+)/enrichment", bind(&State::enrichment));
    http.Post("/v1/enrich", bind(&State::enrich_batch));
    // The MCP server's streamable HTTP transport (docs/mcp.md).
    http.Post("/mcp", [this](const Request& q, Response& r) { mcp->post(q, r); });
    http.Get("/mcp", [this](const Request& q, Response& r) { mcp->get(q, r); });
    http.Delete("/mcp", [this](const Request& q, Response& r) { mcp->del(q, r); });
    // Descriptions.
    http.Get("/openapi.json", [](const Request&, Response& r) {
      r.set_content(internal::openapi_document(), "application/json; charset=utf-8");
    });
    http.Get("/docs", [this](const Request&, Response& r) { r.set_content(docs_html, "text/html; charset=utf-8"); });
    http.Get("/metrics", [this](const Request&, Response& r) {
      r.set_content(metrics.render(backend.enricher ? backend.enricher->shared_lookups() : 0), "text/plain; version=0.0.4; charset=utf-8");
    });
    if (!index_html.empty()) {
      http.Get("/", [this](const Request&, Response& r) { r.set_content(index_html, "text/html; charset=utf-8"); });
    }
    http.set_pre_routing_handler([this](const Request& q, Response& r) { return pre_route(q, r); });
    // Whatever cpp-httplib answers by itself (no route, body too large, bad request) is JSON too.
    httplib::Server::HandlerWithResponse json_errors = [](const Request& q, Response& r) {
      if (!r.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
      if (r.status == 404 && t_request.original_errors) {
        // As Starlette answers: a known path with another method is 405.
        bool known_path = route_label(internal::method_label(q.method), raw_path(q.target)) == "method_not_allowed";
        send_error(r, known_path ? 405 : 404, known_path ? "method_not_allowed" : "not_found",
                   known_path ? "Method Not Allowed" : "Not Found");
      } else if (r.status == 404) {
        send_error(r, 404, "not_found", fmt::format("no route {} {}", q.method, q.path));
      } else if (r.status == 413) {
        send_error(r, 413, "payload_too_large", "request body over the limit");
      } else {
        send_error(r, r.status, "bad_request", fmt::format("HTTP {}", r.status));
      }
      return httplib::Server::HandlerResponse::Handled;
    };
    http.set_error_handler(std::move(json_errors));
    http.set_exception_handler([this](const Request& q, Response& r, std::exception_ptr ep) {
      std::string what = "unknown error";
      try {
        std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      log(fmt::format("error: {} {}: {}", internal::escape_for_log(q.method), internal::escape_for_log(q.path),
                      internal::escape_for_log(what)));
      send_error(r, 500, "internal", "internal error");
    });
    http.set_logger([this](const Request& q, const Response& r) { after(q, r); });
  }
};

Server::Server(std::unique_ptr<State> state) : state_(std::move(state)) {}

Server::~Server() { stop(); }

Result<std::unique_ptr<Server>> Server::start(ServerOptions options, ServerBackend backend) {
  if (!backend.enricher) return invalid_argument("server: an enricher is required");
  if (!backend.store) return invalid_argument("server: a store is required (it holds the last result of each lead)");
  if (options.api_keys.empty() && !options.insecure_no_auth) {
    return failed_precondition(
        "no API keys: set LEADENRICH_API_KEYS (comma-separated) or pass --insecure-no-auth to serve without them");
  }
  if (options.max_batch == 0) return invalid_argument("server: max_batch must be at least 1");
  auto state = std::make_unique<State>();
  state->options = std::move(options);
  state->backend = std::move(backend);
  const ServerOptions& o = state->options;

  std::error_code ec;
  bool ui_built = !o.web_root.empty() && std::filesystem::is_regular_file(std::filesystem::path(o.web_root) / "index.html", ec);
  if (ui_built) {
    state->http.set_mount_point("/", o.web_root);
  } else {
    state->index_html =
        "<!doctype html><meta charset=utf-8><title>leadenrich</title>"
        "<p>The leadenrich web UI is not built. Build it with <code>bash scripts/build.sh</code> (it needs npm), "
        "or point <code>--web-root</code> at a built copy. The API is at <a href=\"/openapi.json\">/openapi.json</a>.";
  }
  // /docs is the built docs.html (it reads /openapi.json); read once, like the mount's files.
  std::filesystem::path docs_page = std::filesystem::path(o.web_root) / "docs.html";
  if (std::ifstream in(docs_page, std::ios::binary); !o.web_root.empty() && in) {
    state->docs_html.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } else {
    state->docs_html =
        "<!doctype html><meta charset=utf-8><title>leadenrich API</title>"
        "<p>The interactive API docs are built with the web UI: <code>bash scripts/build.sh</code> (it needs npm), "
        "or point <code>--web-root</code> at a built copy. The description is at <a href=\"/openapi.json\">/openapi.json</a>.";
  }
  state->mcp = std::make_unique<internal::mcp::HttpTransport>(
      McpBackend{state->backend.aturiya, state->backend.enricher, state->backend.store, o.sandbox, o.max_batch});
  state->http.set_payload_max_length(o.max_body_bytes);
  // Only sent in the Keep-Alive header: the front closes idle connections, and sets no count.
  state->http.set_keep_alive_timeout(std::max<time_t>(1, std::chrono::duration_cast<std::chrono::seconds>(o.idle_timeout).count()));
  state->http.set_keep_alive_max_count(10000);
  state->routes();
  internal::JobManager::Deps jobs;
  jobs.enricher = state->backend.enricher;
  jobs.aturiya = state->backend.aturiya;
  jobs.options = o.jobs;
  jobs.sandbox = o.sandbox;
  jobs.log = o.log;
  Result<std::unique_ptr<internal::JobRoutes>> job_routes =
      internal::JobRoutes::start(state->http, std::move(jobs), std::max<std::size_t>(1, static_cast<std::size_t>(o.threads) / 2));
  if (!job_routes.ok()) return job_routes.status();
  state->jobs = std::move(job_routes).value();

  internal::FrontOptions front;
  front.host = o.host;
  front.port = o.port;
  front.workers = std::max(2, o.threads);
  front.max_connections = o.max_connections;
  front.max_body_bytes = o.max_body_bytes;
  front.head_timeout = o.header_timeout;
  front.request_timeout = std::max(o.header_timeout, o.request_timeout);
  front.idle_timeout = o.idle_timeout;
  front.drain_timeout = o.drain_timeout;
  State* raw = state.get();
  Result<std::unique_ptr<internal::HttpFront>> started = internal::HttpFront::start(
      front, [raw](httplib::Stream& stream, bool close) { return raw->http.serve_one(stream, close); },
      [raw](const internal::FrontRefusal& r) { raw->refused(r); });
  if (!started.ok()) {
    state->jobs->stop();
    return started.status();
  }
  state->front = std::move(started).value();
  state->port = state->front->port();
  if (!ui_built) state->log("web UI not built: / serves a page saying how to build it");
  if (o.insecure_no_auth) {
    state->log("WARNING: --insecure-no-auth: the API answers anyone who can reach " +
               fmt::format("{}:{}", o.host, state->port) + " without an API key");
  }
  return std::unique_ptr<Server>(new Server(std::move(state)));
}

std::string Server::base_url() const { return fmt::format("http://{}:{}", state_->options.host, state_->port); }
int Server::port() const { return state_->port; }

void Server::stop() {
  // Jobs first: their result streams end and their runs are interrupted (resumed at the next
  // start), so the drain below does not wait for a job. Both stops are idempotent and thread-safe.
  state_->jobs->stop();
  state_->front->stop();
  std::lock_guard lock(state_->mu);
  state_->stopped = true;
  state_->stopped_cv.notify_all();
}

void Server::wait() {
  std::unique_lock lock(state_->mu);
  state_->stopped_cv.wait(lock, [this] { return state_->stopped; });
}

}  // namespace leadenrich
