// The pipe0 client over a fake transport and canned JSON: payloads, lenient parsing, status
// mapping, capacity headers, 408 recovery, retries. No sockets, no sleeping.
#include <fstream>
#include <sstream>

#include <doctest/doctest.h>

#include "internal/pipe0_wire.h"
#include "leadenrich/pipe0.h"
#include "leadenrich/testing/fake_clock.h"
#include "leadenrich/testing/fake_transport.h"

using namespace leadenrich;
using namespace std::chrono_literals;

namespace {

std::string data(const std::string& name) {
  std::ifstream in(std::string(LEADENRICH_TEST_DATA_DIR) + "/pipe0/" + name);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

constexpr const char* kKey = "p0_live_SECRET";

struct Harness {
  std::shared_ptr<testing::FakeTransport> transport = std::make_shared<testing::FakeTransport>();
  std::shared_ptr<testing::FakeClock> clock = std::make_shared<testing::FakeClock>();
  std::shared_ptr<Pipe0Connection> pipe0;

  explicit Harness(Pipe0Environment env = Pipe0Environment::kProduction) {
    Pipe0Options o;
    o.base_url = "https://api.pipe0.test/";
    o.api_key = Secret(kKey);
    o.environment = env;
    pipe0 = make_pipe0_connection(o, transport, clock).value();
  }
};

Pipe0RunRequest two_records() {
  Pipe0RunRequest r;
  r.pipes = {{"company:overview@2", {"company_website_url"}, Json()},
             {"people:posts:crustdata@1", {"profile_url"}, Json()}};
  Json::Object a;
  a.emplace_back("company_website_url", Json("https://acme.com"));
  a.emplace_back("company_name", Json("Acme"));
  Json::Object b;
  b.emplace_back("profile_url", Json("https://www.linkedin.com/in/jane-doe"));
  r.records = {{"1", a}, {"2", b}};
  return r;
}

HttpHeaders capacity(int p1, int p2) {
  HttpHeaders h;
  h.add("X-Task-Priority", "1");
  h.add("x-p1-capacity", std::to_string(p1));
  h.add("X-P2-Capacity", std::to_string(p2));
  h.add("X-P3-Capacity", "900");
  return h;
}

}  // namespace

TEST_CASE("the payload carries every required key on every record, null where missing") {
  Result<std::string> body = build_pipe0_payload(two_records(), Pipe0Environment::kProduction);
  REQUIRE(body.ok());
  CHECK(*body ==
        R"({"config":{"environment":"production"},"pipes":[{"pipe_id":"company:overview@2"},{"pipe_id":"people:posts:crustdata@1"}],)"
        R"("input":[{"id":"1","company_website_url":"https://acme.com","company_name":"Acme","profile_url":null},)"
        R"({"id":"2","profile_url":"https://www.linkedin.com/in/jane-doe","company_website_url":null}]})");
}

TEST_CASE("the payload carries pipe configs, nested and escaped inputs exactly as their JSON") {
  Pipe0RunRequest r;
  Json config = Json::parse(R"({"fields":{"company_description":{"alias":"about"}},"limit":3})").value();
  r.pipes = {{"company:overview@2", {"company_website_url", "id"}, config}};
  Json nested = Json::parse(R"({"tags":["a\"b","\u00e9"],"n":1.50,"ok":true})").value();
  r.records = {{"r\"1", {{"id", Json("ignored")}, {"note", nested}, {"line", Json("tab\there")}}}};
  Result<std::string> body = build_pipe0_payload(r, Pipe0Environment::kSandbox);
  REQUIRE(body.ok());
  Json expected(Json::Object{
      {"config", Json(Json::Object{{"environment", Json("sandbox")}})},
      {"pipes", Json(Json::Array{Json(Json::Object{{"pipe_id", Json("company:overview@2")}, {"config", config}})})},
      {"input", Json(Json::Array{Json(Json::Object{{"id", Json("r\"1")},
                                                   {"note", nested},
                                                   {"line", Json("tab\there")},
                                                   {"company_website_url", Json()}})})}});
  CHECK(*body == expected.dump());
  CHECK(Json::parse(*body).ok());
}

TEST_CASE("the payload is refused locally for more than 100 records or a duplicate id") {
  Pipe0RunRequest r = two_records();
  r.records[1].id = "1";
  CHECK(build_pipe0_payload(r, Pipe0Environment::kProduction).status().message() == "duplicate pipe0 record id '1'");
  r.records.clear();
  for (int i = 0; i < 101; ++i) r.records.push_back({std::to_string(i), {}});
  CHECK(build_pipe0_payload(r, Pipe0Environment::kProduction).status().code() == StatusCode::kInvalidArgument);
  Harness h;
  CHECK(h.pipe0->run_sync(r).status().code() == StatusCode::kInvalidArgument);
  CHECK(h.transport->request_count() == 0);
}

TEST_CASE("the contract's request example parses as JSON and the run object example parses as a run") {
  CHECK(Json::parse(data("contract_request.json")).ok());
  Result<Pipe0Run> run = parse_pipe0_run(data("contract_run_object.json"));
  REQUIRE(run.ok());
  CHECK(run->id == "xgvxuqk2771d8t17n60vphu9");
  CHECK(run->terminal());
  REQUIRE(run->records.size() == 1);
  const Pipe0Record& r = run->records[0];
  CHECK(r.field("company_website_url")->is_input());
  CHECK(r.field("company_description")->resolved_by == "company:overview@2");
  CHECK(r.field("company_description")->value.as_string() == "Acme builds ...");
  CHECK(r.field("crustdata_post_list")->status == "skipped");
  CHECK(r.field("crustdata_post_list")->reason->code == "RequirementUnmet");
}

TEST_CASE("run objects parse leniently: numeric ids, drifted keys, odd field shapes, order kept") {
  Result<Pipe0Run> run = parse_pipe0_run(data("drifted_run.json"));
  REQUIRE(run.ok());
  CHECK(run->id == "12345");
  CHECK(run->status == "completed");
  REQUIRE(run->records.size() == 2);
  CHECK(run->records[0].id == "2");  // `order` says 2 first
  CHECK(run->records[1].id == "1");  // id taken from the map key when absent
  const Pipe0Record& r = run->records[0];
  CHECK(r.field("headcount")->value.to_int() == 250);
  CHECK(r.field("founded_year")->value.as_string() == "2015");
  CHECK(r.field("technology_stack")->value.as_array().size() == 2);
  CHECK(r.field("funding_total_usd")->reason->summary == "timeout");
  CHECK(r.field("odd")->status == "completed");
  CHECK(parse_pipe0_run(R"({"id": "r1", "status": "completed", "records": {"1": {"fi)").status().code() ==
        StatusCode::kDataLoss);
  CHECK(parse_pipe0_run(R"({"status": "completed"})").status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("requests carry the key, JSON headers, a user agent and the sandbox environment") {
  Harness h(Pipe0Environment::kSandbox);
  h.transport->push_response(200, data("contract_run_object.json"), capacity(120, 300));
  Result<Pipe0Response> r = h.pipe0->run_sync(two_records());
  REQUIRE(r.ok());
  CHECK(r->capacity.p1 == 120);
  CHECK(r->capacity.p2 == 300);
  CHECK(r->capacity.priority == 1);
  HttpRequest sent = h.transport->requests().at(0);
  CHECK(sent.method == "POST");
  CHECK(sent.url == "https://api.pipe0.test/v1/pipes/run/sync");
  CHECK(sent.headers.get("authorization") == std::string("Bearer ") + kKey);
  CHECK(sent.headers.get("Content-Type") == "application/json");
  CHECK(sent.headers.get("Accept") == "application/json");
  CHECK(sent.headers.get("User-Agent")->rfind("leadenrich/", 0) == 0);
  CHECK(sent.headers.get("x-environment") == "sandbox");
  CHECK(sent.body.find(R"("environment":"sandbox")") != std::string::npos);
  CHECK(sent.total_timeout > 180s);
}

TEST_CASE("every HTTP status maps to its code, keeping the problem slug, detail and status") {
  struct Case {
    int http;
    std::string body;
    StatusCode code;
  };
  const Case cases[] = {
      {400, R"({"type":"validation-error","title":"Bad Request","status":400,"detail":"pipe x requires y"})", StatusCode::kInvalidArgument},
      {422, "{}", StatusCode::kInvalidArgument},
      {401, R"({"type":"unauthorized","detail":"bad key"})", StatusCode::kUnauthenticated},
      {403, "{}", StatusCode::kPermissionDenied},
      {404, R"({"type":"https://api.pipe0.com/problems/run-not-found","detail":"no run"})", StatusCode::kNotFound},
      {409, "{}", StatusCode::kAborted},
      {429, R"({"type":"org-rate-limited"})", StatusCode::kResourceExhausted},
      {500, "not json at all", StatusCode::kUnavailable},
      {503, "{}", StatusCode::kUnavailable},
      {402, data("problem_credits.json"), StatusCode::kFailedPrecondition},
  };
  for (const Case& c : cases) {
    CAPTURE(c.http);
    HttpResponse resp{c.http, {}, c.body};
    Status st = pipe0_error_status(resp, Timestamp{});
    CHECK(st.code() == c.code);
    CHECK(st.http_status() == c.http);
    CHECK(st.provider() == "pipe0");
  }
  Status nf = pipe0_error_status({404, {}, R"({"type":"https://api.pipe0.com/problems/run-not-found","detail":"no run"})"}, Timestamp{});
  CHECK(nf.error_type() == "run-not-found");
  CHECK(nf.message() == "no run");
  Status credits = pipe0_error_status({402, {}, data("problem_credits.json")}, Timestamp{});
  CHECK(credits.error_type() == "insufficient-credits");
  Status bad_key = pipe0_error_status({401, {}, R"({"detail":"bad key"})"}, Timestamp{});
  CHECK(bad_key.message() == "pipe0 rejected the API key (PIPE0_API_KEY): bad key");
}

TEST_CASE("429 carries Retry-After; the blocking check waits for it on the clock and tries again") {
  Harness h;
  HttpHeaders ra;
  ra.add("Retry-After", "4");
  h.transport->push_response(429, R"({"type":"org-rate-limited"})", ra);
  h.transport->push_response(200, data("contract_run_object.json"));
  Result<Pipe0Response> r = h.pipe0->check("xgvxuqk2771d8t17n60vphu9");
  REQUIRE(r.ok());
  CHECK(r->attempts == 2);
  CHECK(h.clock->slept() >= 4s);
  CHECK(h.transport->requests()[0].url == "https://api.pipe0.test/v1/pipes/check/xgvxuqk2771d8t17n60vphu9");

  Status st = pipe0_error_status({429, ra, "{}"}, Timestamp{});
  CHECK(st.retry_after() == std::chrono::milliseconds(4000));
}

TEST_CASE("a run-creating POST is not re-sent after a lost connection, but is after a refused one") {
  Harness h;
  h.transport->push_failure(TransportFailure::kConnectionLost, Status(StatusCode::kUnavailable, "reset"));
  Result<Pipe0Response> lost = h.pipe0->create_run(two_records());
  CHECK(lost.status().code() == StatusCode::kUnavailable);
  CHECK(h.transport->request_count() == 1);

  h.transport->push_failure(TransportFailure::kNotSent, Status(StatusCode::kUnavailable, "refused"));
  h.transport->push_response(201, R"({"id":"run_9","status":"pending"})");
  Result<Pipe0Response> refused = h.pipe0->create_run(two_records());
  REQUIRE(refused.ok());
  CHECK(refused->run.status == "pending");
  CHECK(h.transport->request_count() == 3);
}

TEST_CASE("an async call that never reached pipe0 says so, for the engine to re-send safely") {
  Harness h;
  h.transport->push_failure(TransportFailure::kNotSent, Status(StatusCode::kUnavailable, "refused"));
  std::optional<Result<Pipe0Response>> got;
  h.pipe0->create_run_async(two_records(), [&](Result<Pipe0Response> r) { got = std::move(r); });
  REQUIRE(got.has_value());
  CHECK(got->status().error_type() == kPipe0NotSent);
}

TEST_CASE("a sync 408 is recovered by polling check with the run id from its detail, never re-submitted") {
  Harness h;
  h.transport->push_response(408, data("problem_408.json"));
  h.transport->push_response(200, R"({"id":"xgvxuqk2771d8t17n60vphu9","status":"processing"})");
  h.transport->push_response(200, data("contract_run_object.json"));
  Result<Pipe0Response> r = h.pipe0->run_sync(two_records());
  REQUIRE(r.ok());
  CHECK(r->run.status == "completed");
  std::vector<HttpRequest> sent = h.transport->requests();
  REQUIRE(sent.size() == 3);
  CHECK(sent[1].url.ends_with("/v1/pipes/check/xgvxuqk2771d8t17n60vphu9"));
  CHECK(sent[2].method == "GET");
  CHECK(run_id_from_detail("Run abc is slow") == std::nullopt);
}

TEST_CASE("the async form answers a sync 408 at once with the run still processing; the caller follows it") {
  Harness h;
  h.transport->push_response(408, data("problem_408.json"));
  std::optional<Result<Pipe0Response>> got;
  h.pipe0->run_sync_async(two_records(), [&](Result<Pipe0Response> r) { got = std::move(r); });
  REQUIRE(got.has_value());  // on the transport's callback: no thread of its own polls
  REQUIRE(got->ok());
  CHECK((*got)->run.id == "xgvxuqk2771d8t17n60vphu9");
  CHECK((*got)->run.status == "processing");
  CHECK(h.transport->request_count() == 1);
}

TEST_CASE("wait polls from 1 s growing to 3 s and gives up at the deadline naming the run") {
  Harness h;
  h.transport->set_handler([](const HttpRequest&) {
    HttpOutcome o;
    o.response = HttpResponse{200, {}, R"({"id":"run_slow","status":"processing"})"};
    return o;
  });
  Result<Pipe0Run> r = h.pipe0->wait("run_slow", 10s);
  CHECK(r.status().code() == StatusCode::kDeadlineExceeded);
  CHECK(r.status().message().find("run_slow") != std::string::npos);
  // 1 + 1.5 + 2.25 + 3 = 7.75 s slept before the next 3 s step would pass 10 s.
  CHECK(h.clock->slept() == 7750ms);
  CHECK(h.transport->request_count() == 5);
}

TEST_CASE("credit balance reads a number or a numeric string; validate and cancel map their answers") {
  Harness h;
  h.transport->push_response(200, R"({"balance": "1234.50"})");
  CHECK(h.pipe0->credit_balance().value() == doctest::Approx(1234.5));
  h.transport->push_response(200, R"({"balance": 99})");
  CHECK(h.pipe0->credit_balance().value() == doctest::Approx(99));
  h.transport->push_response(200, R"({"valid": true})");
  CHECK(h.pipe0->validate(two_records()).ok());
  h.transport->push_response(400, R"({"type":"validation-error","detail":"pipe company:overview@2 requires company_website_url"})");
  CHECK(h.pipe0->validate(two_records()).code() == StatusCode::kInvalidArgument);
  h.transport->push_response(409, R"({"type":"run-not-cancelable"})");
  CHECK(h.pipe0->cancel("run_1").status().code() == StatusCode::kAborted);
}

TEST_CASE("a missing key is refused before anything is sent, and errors never contain the key") {
  auto transport = std::make_shared<testing::FakeTransport>();
  Pipe0Options o;
  Result<std::shared_ptr<Pipe0Connection>> c = make_pipe0_connection(o, transport);
  CHECK(c.status().code() == StatusCode::kFailedPrecondition);
  CHECK(c.status().message().find("PIPE0_API_KEY") != std::string::npos);
  CHECK(transport->request_count() == 0);

  Harness h;
  h.transport->push_response(401, R"({"detail":"invalid key"})");
  Status st = h.pipe0->check("r").status();
  CHECK(st.message().find(kKey) == std::string::npos);
}

TEST_CASE("run objects read where a key comes twice as the first one says, and odd shapes as a tree would") {
  Result<Pipe0Run> run = parse_pipe0_run(R"({"id": "r9", "id": "other", "status": "Completed", "status": "failed",
    "order": ["b", 3, null, ""], "order": ["x"],
    "errors": [{"code": "E1", "message": "m1", "path": "p"}, "plain", 7], "errors": ["ignored"],
    "records": {
      "a": "not an object",
      "b": {"id": "b", "id": "B2", "fields": {
        "f1": {"value": 1, "value": 2, "status": "completed", "status": "failed", "type": 3, "format": true,
               "reason": "not an object", "reason": {"code": "C"}, "resolved_by": {"ref": "input", "ref": "x"}},
        "f2": {"status": 500, "reason": {"code": 12, "summary": "s", "summary": "t", "message": null}},
        "f3": null, "f4": [1, 2], "f5": "text"}, "fields": {"late": {"value": 1}}},
      "c": {"fields": "not an object", "fields": {"late": {"value": 1}}, "id": null}
    },
    "records": {"z": {}}})");
  REQUIRE(run.ok());
  CHECK(run->id == "r9");
  CHECK(run->status == "completed");
  CHECK(run->order == std::vector<std::string>{"b", "3"});
  REQUIRE(run->errors.size() == 2);
  CHECK(run->errors[0].code == "E1");
  CHECK(run->errors[0].path == "p");
  CHECK(run->errors[1].message == "plain");
  REQUIRE(run->records.size() == 3);
  CHECK(run->records[0].id == "b");  // in `order` first
  CHECK(run->records[1].id == "a");  // not an object: its key, no fields
  CHECK(run->records[1].fields.empty());
  CHECK(run->records[2].id == "c");  // a null id: its key; its first `fields` is no object
  CHECK(run->records[2].fields.empty());
  const Pipe0Record& b = run->records[0];
  REQUIRE(b.fields.size() == 5);
  const Pipe0Field* f1 = b.field("f1");
  CHECK(f1->value == Json(1));
  CHECK(f1->status == "completed");
  CHECK(f1->type == "3");
  CHECK(f1->format == "true");
  CHECK_FALSE(f1->reason.has_value());  // the first `reason` is no object
  CHECK(f1->resolved_by == "input");
  CHECK(f1->is_input());
  const Pipe0Field* f2 = b.field("f2");
  CHECK(f2->status == "500");
  CHECK(f2->value.is_null());
  REQUIRE(f2->reason.has_value());
  CHECK(f2->reason->code == "12");
  CHECK(f2->reason->summary == "s");
  CHECK(f2->reason->message.empty());
  CHECK(b.field("f3")->status == "no_result");
  CHECK(b.field("f4")->status == "completed");
  CHECK(b.field("f4")->value == Json(Json::Array{Json(1), Json(2)}));
  CHECK(b.field("f5")->value == Json("text"));

  Result<Pipe0Run> array = parse_pipe0_run(R"([{"id": "r1"}])");
  CHECK(array.status().code() == StatusCode::kInvalidArgument);
  CHECK(array.status().message() == "pipe0 sent array where a run object belongs");
  Result<Pipe0Run> empty = parse_pipe0_run("  ");
  CHECK(empty.status().code() == StatusCode::kDataLoss);
  CHECK(empty.status().message() == "pipe0 sent an unreadable run object: invalid JSON: the input is empty");
  CHECK(parse_pipe0_run(R"({"id": "", "status": "completed"})").status().code() == StatusCode::kInvalidArgument);
}
