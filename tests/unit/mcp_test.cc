// The MCP JSON-RPC layer (internal/mcp_session.h) with tools of the test's own: message checks,
// protocol negotiation, the lifecycle, tools/list and tools/call, argument checks against the
// inputSchema, progress and cancellation.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include <fmt/format.h>

#include "internal/mcp_http.h"
#include "internal/mcp_session.h"
#include "leadenrich/engine.h"

namespace leadenrich::internal::mcp {
namespace {

Json parse(std::string_view text) { return Json::parse(text).value(); }

/// A session with an "echo" tool (returns its arguments), a "count" tool (reports progress 1, 1,
/// 2 of 2), a "wait" tool (runs until cancelled) and a "throw" tool.
struct Fixture {
  std::atomic<bool> waiting{false};
  std::unique_ptr<Session> session;
  std::vector<Json> sent;  ///< what the tool calls sent besides their answers

  Fixture() {
    Json input = parse(R"({"type": "object", "additionalProperties": false, "properties": {
        "name": {"type": "string", "minLength": 1}, "n": {"type": "integer", "minimum": 1, "maximum": 10},
        "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}, "maxItems": 2}}})");
    Json output = parse(R"({"type": "object"})");
    Json annotations = parse(R"({"readOnlyHint": true})");
    std::vector<Tool> tools;
    tools.push_back(Tool{"echo", "Echo", "Returns its arguments", input, output, annotations,
                         [](const Json& args, const ToolContext&) { return ToolResult{args, "echoed"}; }});
    tools.push_back(Tool{"count", "Count", "Reports progress", parse(R"({"type": "object"})"), output, annotations,
                         [](const Json&, const ToolContext& ctx) {
                           ctx.progress(1, 2, "one");
                           ctx.progress(1, 2, "one again");  // not growing: not sent
                           ctx.progress(2, 2, "");
                           return ToolResult{Json(Json::Object{}), "counted"};
                         }});
    tools.push_back(Tool{"wait", "Wait", "Runs until cancelled", parse(R"({"type": "object"})"), output, annotations,
                         [this](const Json&, const ToolContext& ctx) {
                           waiting = true;
                           while (!ctx.cancel->cancelled()) std::this_thread::yield();
                           return ToolResult{Json(Json::Object{}), "stopped"};
                         }});
    tools.push_back(Tool{"throw", "Throw", "Fails", parse(R"({"type": "object"})"), output, annotations,
                         [](const Json&, const ToolContext&) -> ToolResult { throw std::runtime_error("boom"); }});
    session = std::make_unique<Session>(std::move(tools), "test", "1.0");
  }

  std::optional<Json> send(std::string_view text) {
    return session->handle_text(text, [this](const Json& m) { sent.push_back(m); });
  }
  void initialize() {
    REQUIRE(send(R"({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-06-18"}})"));
    REQUIRE_FALSE(send(R"({"jsonrpc": "2.0", "method": "notifications/initialized"})"));
  }
};

int error_code(const std::optional<Json>& reply) {
  REQUIRE(reply);
  const Json* error = reply->find("error");
  REQUIRE(error);
  return static_cast<int>(*error->find("code")->to_int());
}

std::string error_message(const std::optional<Json>& reply) { return reply->find("error")->find("message")->as_string(); }

const Json& result(const std::optional<Json>& reply) {
  REQUIRE(reply);
  REQUIRE(reply->find("result"));
  return *reply->find("result");
}

std::string result_text(const std::optional<Json>& reply) {
  return result(reply).find("content")->as_array()[0].find("text")->as_string();
}

TEST_CASE("malformed messages get JSON-RPC errors with the right codes and ids") {
  Fixture f;
  std::optional<Json> r = f.send("{not json");
  CHECK(error_code(r) == kParseError);
  CHECK(r->find("id")->is_null());
  CHECK(error_code(f.send(R"([{"jsonrpc": "2.0", "id": 1, "method": "ping"}])")) == kInvalidRequest);
  CHECK(error_code(f.send(R"("ping")")) == kInvalidRequest);
  r = f.send(R"({"jsonrpc": "1.0", "id": 7, "method": "ping"})");
  CHECK(error_code(r) == kInvalidRequest);
  CHECK(*r->find("id") == Json(7));
  CHECK(error_code(f.send(R"({"jsonrpc": "2.0", "id": null, "method": "ping"})")) == kInvalidRequest);
  CHECK(error_code(f.send(R"({"jsonrpc": "2.0", "id": 1.5, "method": "ping"})")) == kInvalidRequest);
  CHECK(error_code(f.send(R"({"jsonrpc": "2.0", "id": 1, "method": 3})")) == kInvalidRequest);
  CHECK(error_code(f.send(R"({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": [1]})")) == kInvalidParams);
  // A response from the client, and notifications (known or not), are never answered.
  CHECK_FALSE(f.send(R"({"jsonrpc": "2.0", "id": 1, "result": {}})"));
  CHECK_FALSE(f.send(R"({"jsonrpc": "2.0", "method": "notifications/whatever"})"));
}

TEST_CASE("initialize answers with the client's revision when supported, else the newest one") {
  for (auto [asked, answered] : {std::pair{"2025-06-18", "2025-06-18"}, std::pair{"2025-03-26", "2025-06-18"},
                                 std::pair{"2099-01-01", "2025-06-18"}}) {
    Fixture f;
    std::optional<Json> r =
        f.send(fmt::format(R"({{"jsonrpc": "2.0", "id": "init", "method": "initialize", "params": {{"protocolVersion": "{}"}}}})", asked));
    CHECK(result(r).find("protocolVersion")->as_string() == answered);
    CHECK(*r->find("id") == Json("init"));
    CHECK(result(r).find("serverInfo")->find("name")->as_string() == "test");
    CHECK(result(r).find("capabilities")->find("tools") != nullptr);
    CHECK(f.session->protocol_version() == answered);
  }
  Fixture f;
  CHECK(error_code(f.send(R"({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}})")) == kInvalidParams);
  f.initialize();
  std::optional<Json> again = f.send(R"({"jsonrpc": "2.0", "id": 2, "method": "initialize", "params": {"protocolVersion": "2025-06-18"}})");
  CHECK(error_code(again) == kInvalidRequest);
}

TEST_CASE("before initialize only ping is served; unknown methods are -32601") {
  Fixture f;
  CHECK(result(f.send(R"({"jsonrpc": "2.0", "id": 1, "method": "ping"})")) == Json(Json::Object{}));
  std::optional<Json> early = f.send(R"({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})");
  CHECK(error_code(early) == kInvalidRequest);
  CHECK(error_message(early) == "tools/list before initialize: send initialize first");
  f.initialize();
  std::optional<Json> unknown = f.send(R"({"jsonrpc": "2.0", "id": 3, "method": "resources/list"})");
  CHECK(error_code(unknown) == kMethodNotFound);
  CHECK(error_message(unknown) == "method not found: resources/list");
}

TEST_CASE("tools/list gives each tool's schemas and annotations") {
  Fixture f;
  f.initialize();
  std::optional<Json> r = f.send(R"({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})");
  const Json& tools = *result(r).find("tools");
  REQUIRE(tools.as_array().size() == 4);
  const Json& echo = tools.as_array()[0];
  CHECK(echo.find("name")->as_string() == "echo");
  CHECK(echo.find("inputSchema")->find("type")->as_string() == "object");
  CHECK(echo.find("outputSchema")->find("type")->as_string() == "object");
  CHECK(echo.find("annotations")->find("readOnlyHint")->as_bool());
}

TEST_CASE("tools/call: structuredContent and text; protocol errors for what is not a call") {
  Fixture f;
  f.initialize();
  std::optional<Json> r = f.send(R"({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "echo", "arguments": {"name": "x", "n": 3}}})");
  CHECK(result(r).find("structuredContent")->dump() == R"({"name":"x","n":3})");
  CHECK(result_text(r) == "echoed");
  CHECK_FALSE(result(r).find("isError")->as_bool());
  // No arguments at all: an empty object.
  r = f.send(R"({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "echo"}})");
  CHECK(result(r).find("structuredContent")->dump() == "{}");
  r = f.send(R"({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "nope", "arguments": {}}})");
  CHECK(error_code(r) == kInvalidParams);
  CHECK(error_message(r) == "unknown tool: nope");
  CHECK(error_code(f.send(R"({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"arguments": {}}})")) == kInvalidParams);
  CHECK(error_code(f.send(R"({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": "echo", "arguments": [1]}})")) ==
        kInvalidParams);
  // A tool that throws is an error result, not a dead session.
  r = f.send(R"({"jsonrpc": "2.0", "id": 6, "method": "tools/call", "params": {"name": "throw"}})");
  CHECK(result(r).find("isError")->as_bool());
  CHECK(result_text(r) == "throw failed: boom");
  CHECK(result(r).find("structuredContent") == nullptr);
}

TEST_CASE("bad arguments are error results naming the argument, and the tool does not run") {
  Fixture f;
  f.initialize();
  auto call = [&](std::string_view args) {
    return f.send(fmt::format(R"({{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {{"name": "echo", "arguments": {}}}}})", args));
  };
  for (auto [args, message] : {
           std::pair{R"({"n": "3"})", "arguments.n: expected integer, got string"},
           std::pair{R"({"n": 2.5})", "arguments.n: expected integer, got number"},
           std::pair{R"({"n": 11})", "arguments.n: 11 is above the maximum 10"},
           std::pair{R"({"n": 0})", "arguments.n: 0 is below the minimum 1"},
           std::pair{R"({"name": ""})", "arguments.name: must not be shorter than 1 characters"},
           std::pair{R"({"tags": ["a", "c"]})", "arguments.tags[1]: \"c\" is not one of a, b"},
           std::pair{R"({"tags": ["a", "b", "a"]})", "arguments.tags: 3 items, at most 2"},
           std::pair{R"({"colour": "red"})", "arguments: unknown member \"colour\""},
       }) {
    CAPTURE(args);
    std::optional<Json> r = call(args);
    CHECK(result(r).find("isError")->as_bool());
    CHECK(result_text(r) == message);
    CHECK(result(r).find("structuredContent") == nullptr);
  }
}

TEST_CASE("check_schema: required members and nested paths") {
  Json schema = parse(R"({"type": "object", "required": ["lead"], "properties": {
      "lead": {"type": "object", "required": ["lead_id"], "properties": {"lead_id": {"type": "string"}}}}})");
  CHECK(check_schema(schema, parse(R"({"lead": {"lead_id": "x", "other": 1}})"), "arguments") == std::nullopt);
  CHECK(check_schema(schema, parse("{}"), "arguments") == "arguments: lead is required");
  CHECK(check_schema(schema, parse(R"({"lead": {}})"), "arguments") == "arguments.lead: lead_id is required");
  CHECK(check_schema(schema, parse(R"({"lead": {"lead_id": 5}})"), "arguments") == "arguments.lead.lead_id: expected string, got integer");
}

TEST_CASE("check_schema: patterns are ECMAScript regular expressions") {
  Json schema = parse(R"({"type": "string", "pattern": "^(?!\\.\\.?$)[A-Za-z0-9_.:@-]+$"})");
  CHECK(check_schema(schema, Json("lead_1_0001"), "arguments.lead_id") == std::nullopt);
  CHECK(check_schema(schema, Json("a.b"), "arguments.lead_id") == std::nullopt);
  CHECK(check_schema(schema, Json(".."), "arguments.lead_id") ==
        R"(arguments.lead_id: ".." does not match the pattern ^(?!\.\.?$)[A-Za-z0-9_.:@-]+$)");
  CHECK(check_schema(schema, Json("a/b"), "arguments.lead_id").has_value());
  CHECK(check_schema(schema, Json("."), "arguments.lead_id").has_value());
}

TEST_CASE("progress is sent only with a progressToken, only when it grows, before the answer") {
  Fixture f;
  f.initialize();
  std::optional<Json> r =
      f.send(R"({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "count", "_meta": {"progressToken": "tok"}}})");
  CHECK_FALSE(result(r).find("isError")->as_bool());
  REQUIRE(f.sent.size() == 2);
  CHECK(f.sent[0].dump() ==
        R"({"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"tok","progress":1,"total":2,"message":"one"}})");
  CHECK(f.sent[1].dump() == R"({"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"tok","progress":2,"total":2}})");
  f.sent.clear();
  f.send(R"({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "count"}})");
  CHECK(f.sent.empty());
}

TEST_CASE("notifications/cancelled stops the call under way, and it is not answered") {
  Fixture f;
  f.initialize();
  std::optional<Json> reply = Json("unset");
  std::thread call([&] {
    reply = f.send(R"({"jsonrpc": "2.0", "id": "slow", "method": "tools/call", "params": {"name": "wait"}})");
  });
  while (!f.waiting) std::this_thread::yield();
  // A cancellation for another id changes nothing; the right one ends the call.
  CHECK_FALSE(f.send(R"({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "other"}})"));
  CHECK_FALSE(f.send(R"({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "slow", "reason": "enough"}})"));
  call.join();
  CHECK_FALSE(reply.has_value());
  // The session goes on.
  CHECK(result(f.send(R"({"jsonrpc": "2.0", "id": 9, "method": "ping"})")) == Json(Json::Object{}));
}

TEST_CASE("Session::long_running picks tool calls out for a thread of their own") {
  CHECK(Session::long_running(parse(R"({"jsonrpc": "2.0", "id": 1, "method": "tools/call"})")));
  CHECK_FALSE(Session::long_running(parse(R"({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})")));
  CHECK_FALSE(Session::long_running(parse(R"({"jsonrpc": "2.0", "method": "tools/call"})")));
}

/// POSTs one message to /mcp the way a client does; returns the answer.
httplib::Response post(HttpTransport& mcp, std::string_view body, const std::string& session = "",
                       const std::string& version = "") {
  httplib::Request req;
  req.method = "POST";
  req.body = std::string(body);
  req.set_header("Accept", "application/json");  // no stream: the JSON answer needs no front
  if (!session.empty()) req.set_header("Mcp-Session-Id", session);
  if (!version.empty()) req.set_header("MCP-Protocol-Version", version);
  httplib::Response res;
  mcp.post(req, res);
  return res;
}

constexpr std::string_view kInitialize =
    R"({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18"}})";
constexpr std::string_view kList = R"({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})";

TEST_CASE("HTTP: sessions by Mcp-Session-Id; unknown, ended and evicted sessions are 404") {
  McpBackend backend;
  backend.enricher = std::make_shared<Enricher>(Config{}, nullptr);
  HttpTransport mcp(backend, 2);
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    httplib::Response res = post(mcp, kInitialize);
    CHECK(res.status == 200);
    ids.push_back(res.get_header_value("Mcp-Session-Id"));
    CHECK(ids.back().size() == 32);
  }
  CHECK(ids[0] != ids[1]);
  CHECK(mcp.sessions() == 2);
  // The least recently used (the first) made room for the third.
  httplib::Response gone = post(mcp, kList, ids[0]);
  CHECK(gone.status == 404);
  CHECK(parse(gone.body).find("error")->find("message")->as_string() == "unknown or ended session: send initialize again");
  httplib::Response listed = post(mcp, kList, ids[2], "2025-06-18");
  CHECK(listed.status == 200);
  CHECK(listed.get_header_value("Content-Type") == "application/json; charset=utf-8");
  CHECK(parse(listed.body).find("result")->find("tools")->as_array().size() == 6);
  // A notification is accepted with no body.
  httplib::Response accepted = post(mcp, R"({"jsonrpc": "2.0", "method": "notifications/initialized"})", ids[2]);
  CHECK(accepted.status == 202);
  CHECK(accepted.body.empty());
  // No session, a revision this server does not speak, a body that is not JSON.
  CHECK(post(mcp, kList).status == 400);
  CHECK(post(mcp, kList, ids[2], "1999-01-01").status == 400);
  httplib::Response bad = post(mcp, "{nope", ids[2]);
  CHECK(bad.status == 400);
  CHECK(*parse(bad.body).find("error")->find("code") == Json(kParseError));

  httplib::Request del;
  del.method = "DELETE";
  del.set_header("Mcp-Session-Id", ids[2]);
  httplib::Response ended;
  mcp.del(del, ended);
  CHECK(ended.status == 204);
  CHECK(post(mcp, kList, ids[2]).status == 404);
  httplib::Response again;
  mcp.del(del, again);
  CHECK(again.status == 404);

  httplib::Response get;
  mcp.get(httplib::Request{}, get);
  CHECK(get.status == 405);
  CHECK(get.get_header_value("Allow") == "POST, DELETE");
}

}  // namespace
}  // namespace leadenrich::internal::mcp
