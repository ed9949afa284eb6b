#include "leadenrich/pipe0.h"

#include <algorithm>
#include <cctype>
#include <future>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>

#include "internal/json_members.h"
#include "internal/json_write.h"
#include "internal/pipe0_wire.h"
#include "internal/retry_loop.h"
#include "internal/url.h"
#include "leadenrich/version.h"

namespace leadenrich {
namespace {

// The text of a scalar member, or "" when absent or not a scalar.
std::string json_text(const Json* v) { return v != nullptr ? v->to_text() : std::string(); }

constexpr std::string_view kProvider = "pipe0";

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}



// The text of the first member of `node` named `key` ("" when absent or not a scalar), as
// Json::find(key)->to_text() would give it.
std::string first_text(const internal::JsonNode& node, std::string_view key) {
  std::optional<std::string> text;
  (void)node.members([&](std::string_view k, const internal::JsonNode& v) {
    if (!text && k == key) text = v.text();
    return Status();
  });
  return text.value_or("");
}

// One field of a record, read in place: only its value becomes a tree (a person's posts or a
// company's overview are the bulk of an answer). Where a key comes twice the first counts.
Pipe0Field parse_field(std::string_view name, const internal::JsonNode& j) {
  Pipe0Field f;
  f.name = name;
  if (!j.is_object()) {
    // Drifted or odd shapes: keep the value, call it completed only if it is not null.
    f.status = j.type() == Json::Type::kNull ? "no_result" : "completed";
    f.value = j.tree();
    return f;
  }
  bool value = false, status = false, type = false, format = false, reason = false, resolved_by = false;
  (void)j.members([&](std::string_view key, const internal::JsonNode& v) {
    auto first = [&](std::string_view name_, bool& seen) { return key == name_ && !std::exchange(seen, true); };
    if (first("value", value)) {
      f.value = v.tree();
    } else if (first("status", status)) {
      f.status = v.text();
    } else if (first("type", type)) {
      f.type = v.text();
    } else if (first("format", format)) {
      f.format = v.text();
    } else if (first("reason", reason)) {
      if (v.is_object()) f.reason = Pipe0Reason{first_text(v, "code"), first_text(v, "summary"), first_text(v, "message")};
    } else if (first("resolved_by", resolved_by)) {
      if (v.is_object()) f.resolved_by = first_text(v, "ref");
    }
    return Status();
  });
  return f;
}

}  // namespace

Pipe0Options pipe0_options(const Config& config) {
  Pipe0Options o;
  o.base_url = config.pipe0_base_url;
  o.api_key = config.pipe0_api_key;
  o.environment = config.pipe0_environment;
  return o;
}

Result<std::string> build_pipe0_payload(const Pipe0RunRequest& request, Pipe0Environment environment) {
  if (request.pipes.empty()) return invalid_argument("a pipe0 request needs at least one pipe");
  if (request.records.empty()) return invalid_argument("a pipe0 request needs at least one input record");
  if (request.records.size() > kPipe0MaxRecords) {
    return invalid_argument(fmt::format("a pipe0 request holds at most {} records, got {}", kPipe0MaxRecords,
                                        request.records.size()));
  }
  // Written straight into the body, the same bytes as a Json tree dumped: building the tree
  // copied every input value once more per request.
  std::vector<std::string> required;
  std::string out = R"({"config":{"environment":)";
  append_json_string(out, to_string(environment));
  out += R"(},"pipes":[)";
  for (std::size_t i = 0; i < request.pipes.size(); ++i) {
    const Pipe0PipeRef& p = request.pipes[i];
    if (i > 0) out.push_back(',');
    out += R"({"pipe_id":)";
    append_json_string(out, p.pipe_id);
    if (!p.config.is_null()) {
      out += R"(,"config":)";
      p.config.dump_to(out);
    }
    out.push_back('}');
    for (const std::string& in : p.required_inputs) {
      if (std::find(required.begin(), required.end(), in) == required.end()) required.push_back(in);
    }
  }
  out += R"(],"input":[)";
  std::unordered_set<std::string_view> ids;
  for (std::size_t i = 0; i < request.records.size(); ++i) {
    const Pipe0InputRecord& r = request.records[i];
    if (!ids.insert(r.id).second) return invalid_argument(fmt::format("duplicate pipe0 record id '{}'", r.id));
    if (i > 0) out.push_back(',');
    out += R"({"id":)";
    append_json_string(out, r.id);
    for (const auto& [k, v] : r.inputs) {
      if (k == "id") continue;
      out.push_back(',');
      append_json_string(out, k);
      out.push_back(':');
      v.dump_to(out);
    }
    // Every required input goes out, null where unknown (pipe0 refuses a record without it).
    for (const std::string& key : required) {
      bool present = key == "id" || std::any_of(r.inputs.begin(), r.inputs.end(), [&](const Json::Member& m) { return m.first == key; });
      if (present) continue;
      out.push_back(',');
      append_json_string(out, key);
      out += ":null";
    }
    out.push_back('}');
  }
  out += "]}";
  return out;
}

const Pipe0Field* Pipe0Record::field(std::string_view name) const {
  for (const Pipe0Field& f : fields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// Walked in place rather than parsed into a tree and copied out: only field values become trees.
// Where a key comes twice the first counts, as Json::find has it.
Result<Pipe0Run> parse_pipe0_run(std::string_view body) {
  Pipe0Run run;
  std::string not_object;  // the type the document has instead
  std::vector<Pipe0Record> all;
  Status parsed = internal::walk_json(body, [&](const internal::JsonNode& doc) {
    if (!doc.is_object()) {
      not_object = std::string(doc.tree().type_name());
      return Status();
    }
    bool id = false, status = false, order = false, errors = false, records = false;
    auto first = [](std::string_view key, std::string_view name, bool& seen) { return key == name && !std::exchange(seen, true); };
    return doc.members([&](std::string_view key, const internal::JsonNode& v) {
      if (first(key, "id", id)) {
        run.id = v.text();
      } else if (first(key, "status", status)) {
        run.status = lower(v.text());
      } else if (first(key, "order", order)) {
        if (v.type() == Json::Type::kArray) {
          Json items = v.tree();
          for (const Json& item : items.as_array()) {
            std::string s = item.to_text();
            if (!s.empty()) run.order.push_back(std::move(s));
          }
        }
      } else if (first(key, "errors", errors)) {
        if (v.type() == Json::Type::kArray) {
          Json items = v.tree();
          for (const Json& e : items.as_array()) {
            if (e.is_object()) {
              run.errors.push_back({json_text(e.find("code")), json_text(e.find("message")), json_text(e.find("path"))});
            } else if (e.is_string()) {
              run.errors.push_back({"", e.as_string(), ""});
            }
          }
        }
      } else if (first(key, "records", records)) {
        (void)v.members([&](std::string_view rec_key, const internal::JsonNode& rec) {
          Pipe0Record r;
          bool rec_id = false, fields = false;
          (void)rec.members([&](std::string_view k, const internal::JsonNode& m) {
            if (first(k, "id", rec_id)) {
              r.id = m.text();
            } else if (first(k, "fields", fields)) {
              (void)m.members([&](std::string_view name, const internal::JsonNode& f) {
                r.fields.push_back(parse_field(name, f));
                return Status();
              });
            }
            return Status();
          });
          if (r.id.empty()) r.id = std::string(rec_key);
          all.push_back(std::move(r));
          return Status();
        });
      }
      return Status();
    });
  });
  if (!parsed.ok()) return data_loss(fmt::format("pipe0 sent an unreadable run object: {}", parsed.message()));
  if (!not_object.empty()) return invalid_argument(fmt::format("pipe0 sent {} where a run object belongs", not_object));
  if (run.id.empty()) return invalid_argument("pipe0 sent a run object without an id");
  // Records come back in request order when `order` says so; any others follow.
  std::vector<bool> used(all.size(), false);
  for (const std::string& id : run.order) {
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (!used[i] && all[i].id == id) {
        used[i] = true;
        run.records.push_back(std::move(all[i]));
        break;
      }
    }
  }
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (!used[i]) run.records.push_back(std::move(all[i]));
  }
  return run;
}

Pipe0Capacity parse_pipe0_capacity(const HttpHeaders& headers) {
  auto number = [&](std::string_view name) -> std::optional<int> {
    std::optional<std::string> v = headers.get(name);
    if (!v) return std::nullopt;
    try {
      std::size_t used = 0;
      int n = std::stoi(*v, &used);
      return n;
    } catch (...) {
      return std::nullopt;
    }
  };
  return Pipe0Capacity{number("X-Task-Priority"), number("X-P1-Capacity"), number("X-P2-Capacity"),
                       number("X-P3-Capacity")};
}

Status pipe0_error_status(const HttpResponse& response, Timestamp now) {
  int code = response.status;
  std::string type, title, detail;
  if (Result<Json> problem = Json::parse(response.body); problem.ok() && problem->is_object()) {
    type = json_text(problem->find("type"));
    title = json_text(problem->find("title"));
    detail = json_text(problem->find("detail"));
    if (detail.empty()) detail = json_text(problem->find("message"));
  }
  std::string slug = type.substr(type.find_last_of('/') == std::string::npos ? 0 : type.find_last_of('/') + 1);
  std::string message = !detail.empty() ? detail : !title.empty() ? title : fmt::format("pipe0 answered HTTP {}", code);
  std::string all = lower(type + " " + title + " " + detail);
  StatusCode sc = StatusCode::kUnknown;
  if (code == 400 || code == 422) sc = StatusCode::kInvalidArgument;
  else if (code == 401) sc = StatusCode::kUnauthenticated;
  else if (code == 403) sc = StatusCode::kPermissionDenied;
  else if (code == 404) sc = StatusCode::kNotFound;
  else if (code == 408) sc = StatusCode::kDeadlineExceeded;
  else if (code == 409) sc = StatusCode::kAborted;
  else if (code == 429) sc = StatusCode::kResourceExhausted;
  else if (code >= 500) sc = StatusCode::kUnavailable;
  if (code >= 400 && code < 500 && code != 429 && code != 408 &&
      (all.find("credit") != std::string::npos || all.find("balance") != std::string::npos)) {
    sc = StatusCode::kFailedPrecondition;
  }
  if (code == 401) message = "pipe0 rejected the API key (PIPE0_API_KEY): " + message;
  Status st = Status(sc, message).with_http_status(code).with_provider(std::string(kProvider)).with_error_type(slug);
  if (std::optional<std::string> ra = response.headers.get("Retry-After")) {
    if (auto wait = parse_retry_after(*ra, now)) st.with_retry_after(*wait);
  }
  return st;
}

std::optional<std::string> run_id_from_detail(std::string_view detail) {
  std::size_t i = 0;
  while (i < detail.size()) {
    while (i < detail.size() && !(std::isalnum(static_cast<unsigned char>(detail[i])) || detail[i] == '_' || detail[i] == '-')) ++i;
    std::size_t start = i;
    while (i < detail.size() && (std::isalnum(static_cast<unsigned char>(detail[i])) || detail[i] == '_' || detail[i] == '-')) ++i;
    std::string_view token = detail.substr(start, i - start);
    bool digit = std::any_of(token.begin(), token.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
    bool alpha = std::any_of(token.begin(), token.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); });
    if (token.size() >= 10 && digit && alpha) return std::string(token);
  }
  return std::nullopt;
}

namespace {

// A run object cut short still starts with its id: {"id":"...", ...}. Recovering it lets an
// accepted run be followed by id instead of being sent (and billed) again.
std::optional<std::string> run_id_from_partial_body(std::string_view body) {
  std::size_t key = body.find("\"id\"");
  if (key == std::string_view::npos || key > 64) return std::nullopt;
  std::size_t i = key + 4;
  while (i < body.size() && (body[i] == ' ' || body[i] == ':')) ++i;
  if (i >= body.size() || body[i] != '"') return std::nullopt;
  std::size_t end = body.find('"', i + 1);
  if (end == std::string_view::npos || end == i + 1) return std::nullopt;
  return std::string(body.substr(i + 1, end - i - 1));
}

class Pipe0ConnectionImpl : public Pipe0Connection, public std::enable_shared_from_this<Pipe0ConnectionImpl> {
 public:
  Pipe0ConnectionImpl(Pipe0Options options, std::shared_ptr<HttpTransport> transport, std::shared_ptr<Clock> clock)
      : options_(std::move(options)), transport_(std::move(transport)), clock_(std::move(clock)) {}

  void run_sync_async(Pipe0RunRequest request, Pipe0Callback done) override {
    Result<HttpRequest> http = run_request("/v1/pipes/run/sync", request, options_.sync_timeout);
    if (!http.ok()) return done(http.status());
    std::weak_ptr<Pipe0ConnectionImpl> weak = weak_from_this();
    transport_->send_async(std::move(http).value(), [weak, done = std::move(done)](HttpOutcome outcome) mutable {
      std::shared_ptr<Pipe0ConnectionImpl> self = weak.lock();
      if (!self) return done(Status(StatusCode::kCancelled, "the pipe0 connection was closed"));
      Result<Pipe0Response> r = self->interpret(outcome);
      std::optional<std::string> id;
      if (!r.ok() && r.status().http_status() == 408) id = run_id_from_detail(r.status().message());
      if (!r.ok() && r.status().code() == StatusCode::kDataLoss && outcome.response.ok()) {
        id = run_id_from_partial_body(outcome.response->body);
      }
      if (!r.ok() && id) {
        // The run goes on at pipe0: answer with it, still running, for the caller to follow by
        // id with check (never re-submit). No thread here: the engine polls on its own loop.
        Pipe0Response pending;
        pending.run.id = *id;
        pending.run.status = "processing";
        if (outcome.response.ok()) pending.capacity = parse_pipe0_capacity(outcome.response->headers);
        return done(std::move(pending));
      }
      done(std::move(r));
    });
  }

  void create_run_async(Pipe0RunRequest request, Pipe0Callback done) override {
    Result<HttpRequest> http = run_request("/v1/pipes/run", request, options_.request_timeout);
    if (!http.ok()) return done(http.status());
    std::weak_ptr<Pipe0ConnectionImpl> weak = weak_from_this();
    transport_->send_async(std::move(http).value(), [weak, done = std::move(done)](HttpOutcome outcome) {
      std::shared_ptr<Pipe0ConnectionImpl> self = weak.lock();
      if (!self) return done(Status(StatusCode::kCancelled, "the pipe0 connection was closed"));
      Result<Pipe0Response> r = self->interpret(outcome);
      if (!r.ok() && r.status().code() == StatusCode::kDataLoss && outcome.response.ok()) {
        // Accepted, but the answer was cut: follow the run by its id.
        if (std::optional<std::string> id = run_id_from_partial_body(outcome.response->body)) {
          Pipe0Response pending;
          pending.run.id = *id;
          pending.run.status = "pending";
          pending.capacity = parse_pipe0_capacity(outcome.response->headers);
          return done(std::move(pending));
        }
      }
      done(std::move(r));
    });
  }

  void check_async(std::string run_id, Pipe0Callback done) override {
    send_async(get_request("/v1/pipes/check/" + internal::percent_encode(run_id)), std::move(done));
  }

  Result<Pipe0Response> run_sync(const Pipe0RunRequest& request) override {
    Result<Pipe0Response> r = blocking([&](Pipe0Callback cb) { run_sync_async(request, std::move(cb)); });
    if (!r.ok() || r->run.terminal()) return r;
    // Past pipe0's synchronous limit (408) or cut short: follow the run to its end.
    Result<Pipe0Run> run = wait(r->run.id, options_.sync_timeout);
    if (!run.ok()) return run.status();
    r->run = std::move(run).value();
    return r;
  }

  Result<Pipe0Response> create_run(const Pipe0RunRequest& request) override {
    Result<HttpRequest> http = run_request("/v1/pipes/run", request, options_.request_timeout);
    if (!http.ok()) return http.status();
    return send_blocking(*http, Idempotency::kCreatesRun);
  }

  Result<Pipe0Response> check(const std::string& run_id) override {
    return send_blocking(get_request("/v1/pipes/check/" + internal::percent_encode(run_id)), Idempotency::kIdempotent);
  }

  Result<Pipe0Run> wait(const std::string& run_id, std::chrono::milliseconds timeout) override {
    Clock::SteadyTime deadline = clock_->steady_now() + timeout;
    std::chrono::milliseconds interval = options_.poll_initial;
    while (true) {
      Result<Pipe0Response> r = check(run_id);
      if (!r.ok()) return r.status();
      if (r->run.terminal()) return std::move(r->run);
      if (clock_->steady_now() + interval > deadline) {
        return Status(StatusCode::kDeadlineExceeded,
                      fmt::format("pipe0 run {} had not finished after {} s", run_id,
                                  std::chrono::duration_cast<std::chrono::seconds>(timeout).count()))
            .with_provider(std::string(kProvider));
      }
      clock_->sleep_for(interval);
      interval = std::min(options_.poll_max, std::chrono::milliseconds(interval.count() * 3 / 2));
    }
  }

  Result<Pipe0Run> cancel(const std::string& run_id) override {
    HttpRequest req = base_request("POST", "/v1/pipes/cancel/" + internal::percent_encode(run_id), options_.request_timeout);
    Result<Pipe0Response> r = send_blocking(req, Idempotency::kIdempotent);
    if (!r.ok()) return r.status();
    return std::move(r->run);
  }

  Status validate(const Pipe0RunRequest& request) override {
    Result<HttpRequest> http = run_request("/v1/pipes/validate", request, options_.request_timeout);
    if (!http.ok()) return http.status();
    int attempts = 0;
    HttpOutcome o = send_with_retry(*transport_, *http, options_.retry, Idempotency::kIdempotent, *clock_, &attempts);
    if (!o.response.ok()) return transport_status(o);
    if (o.response->status / 100 != 2) return pipe0_error_status(*o.response, clock_->now());
    Result<Json> body = Json::parse(o.response->body);
    if (body.ok() && body->is_object()) {
      if (const Json* valid = body->find("valid"); valid != nullptr && valid->is_bool() && !valid->as_bool()) {
        return invalid_argument("pipe0 says the request is not valid");
      }
    }
    return {};
  }

  Result<double> credit_balance() override {
    HttpOutcome o = send_with_retry(*transport_, get_request("/v1/credit-balance"), options_.retry,
                                    Idempotency::kIdempotent, *clock_);
    if (!o.response.ok()) return transport_status(o);
    if (o.response->status / 100 != 2) return pipe0_error_status(*o.response, clock_->now());
    Result<Json> body = Json::parse(o.response->body);
    if (!body.ok()) return data_loss(fmt::format("pipe0 sent an unreadable balance: {}", body.status().message()));
    const Json* balance = body->find("balance");
    if (balance != nullptr) {
      if (auto d = balance->to_double()) return *d;
      if (balance->is_string()) {
        try {
          return std::stod(balance->as_string());
        } catch (...) {
        }
      }
    }
    return data_loss("pipe0 sent a credit balance without a number");
  }

 private:
  HttpRequest base_request(std::string method, const std::string& path, std::chrono::milliseconds timeout) const {
    HttpRequest r;
    r.method = std::move(method);
    r.url = options_.base_url + path;
    r.headers.add("Authorization", "Bearer " + options_.api_key.reveal());
    r.headers.add("Accept", "application/json");
    r.headers.add("User-Agent", fmt::format("leadenrich/{}", kVersion));
    if (options_.environment == Pipe0Environment::kSandbox) r.headers.add("x-environment", "sandbox");
    r.connect_timeout = options_.connect_timeout;
    r.total_timeout = timeout;
    return r;
  }

  HttpRequest get_request(const std::string& path) const {
    return base_request("GET", path, options_.request_timeout);
  }

  Result<HttpRequest> run_request(const std::string& path, const Pipe0RunRequest& request,
                                  std::chrono::milliseconds timeout) const {
    Result<std::string> body = build_pipe0_payload(request, options_.environment);
    if (!body.ok()) return body.status();
    HttpRequest r = base_request("POST", path, timeout);
    r.headers.add("Content-Type", "application/json");
    r.body = std::move(body).value();
    return r;
  }

  Status transport_status(const HttpOutcome& o) const {
    Status st = o.response.status();
    st.with_provider(std::string(kProvider));
    if (o.failure == TransportFailure::kNotSent) st.with_error_type(std::string(kPipe0NotSent));
    return st;
  }

  Result<Pipe0Response> interpret(const HttpOutcome& o, int attempts = 1) const {
    if (!o.response.ok()) return transport_status(o);
    const HttpResponse& resp = *o.response;
    if (resp.status / 100 != 2) return pipe0_error_status(resp, clock_->now());
    Result<Pipe0Run> run = parse_pipe0_run(resp.body);
    if (!run.ok()) return Status(run.status()).with_provider(std::string(kProvider)).with_http_status(resp.status);
    return Pipe0Response{std::move(run).value(), parse_pipe0_capacity(resp.headers), attempts};
  }

  void send_async(HttpRequest request, Pipe0Callback done) {
    std::weak_ptr<Pipe0ConnectionImpl> weak = weak_from_this();
    transport_->send_async(std::move(request), [weak, done = std::move(done)](HttpOutcome outcome) {
      std::shared_ptr<Pipe0ConnectionImpl> self = weak.lock();
      if (!self) return done(Status(StatusCode::kCancelled, "the pipe0 connection was closed"));
      done(self->interpret(outcome));
    });
  }

  Result<Pipe0Response> send_blocking(const HttpRequest& request, Idempotency idempotency) {
    int attempts = 0;
    HttpOutcome o = send_with_retry(*transport_, request, options_.retry, idempotency, *clock_, &attempts);
    return interpret(o, attempts);
  }

  template <typename Start>
  Result<Pipe0Response> blocking(Start start) {
    std::promise<Result<Pipe0Response>> promise;
    std::future<Result<Pipe0Response>> future = promise.get_future();
    start([&promise](Result<Pipe0Response> r) { promise.set_value(std::move(r)); });
    return future.get();
  }

  Pipe0Options options_;
  std::shared_ptr<HttpTransport> transport_;
  std::shared_ptr<Clock> clock_;
};

}  // namespace

Result<std::shared_ptr<Pipe0Connection>> make_pipe0_connection(Pipe0Options options,
                                                               std::shared_ptr<HttpTransport> transport,
                                                               std::shared_ptr<Clock> clock) {
  if (options.api_key.empty()) {
    return failed_precondition("pipe0 needs an API key: set PIPE0_API_KEY (or use --sandbox)");
  }
  if (options.base_url.rfind("http://", 0) != 0 && options.base_url.rfind("https://", 0) != 0) {
    return invalid_argument(fmt::format("PIPE0_BASE_URL must be an http:// or https:// URL, got '{}'", options.base_url));
  }
  while (!options.base_url.empty() && options.base_url.back() == '/') options.base_url.pop_back();
  if (!transport) return invalid_argument("make_pipe0_connection needs a transport");
  if (!clock) clock = system_clock();
  return std::shared_ptr<Pipe0Connection>(
      std::make_shared<Pipe0ConnectionImpl>(std::move(options), std::move(transport), std::move(clock)));
}

}  // namespace leadenrich
