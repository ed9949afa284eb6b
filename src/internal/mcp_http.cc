#include "internal/mcp_http.h"

#include <sys/random.h>

#include <fmt/format.h>

#include "internal/http_front.h"
#include "internal/mcp_tools.h"

namespace leadenrich::internal::mcp {
namespace {

constexpr const char* kJson = "application/json; charset=utf-8";

/// 128 random bits as hex: a session id nobody can guess from another.
std::string new_session_id() {
  unsigned char bytes[16];
  std::size_t got = 0;
  while (got < sizeof(bytes)) {
    ssize_t n = ::getrandom(bytes + got, sizeof(bytes) - got, 0);
    if (n > 0) got += static_cast<std::size_t>(n);
    else if (errno != EINTR) throw std::runtime_error("getrandom failed");
  }
  std::string id;
  for (unsigned char b : bytes) id += fmt::format("{:02x}", b);
  return id;
}

/// An HTTP-level refusal with a JSON-RPC error body (id null), as MCP clients read them.
void refuse(httplib::Response& res, int status, int code, std::string_view message) {
  res.status = status;
  res.set_content(Session::error_response(Json(), code, message).dump(), kJson);
}

bool accepts_event_stream(const httplib::Request& req) {
  return req.get_header_value("Accept").find("text/event-stream") != std::string::npos;
}

/// One server-sent event carrying a JSON-RPC message.
std::string sse_event(const Json& message) { return "event: message\ndata: " + message.dump() + "\n\n"; }

}  // namespace

HttpTransport::HttpTransport(McpBackend backend, std::size_t max_sessions)
    : backend_(std::move(backend)), max_sessions_(std::max<std::size_t>(1, max_sessions)) {}

std::size_t HttpTransport::sessions() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

std::shared_ptr<Session> HttpTransport::open_session(std::string& id) {
  std::shared_ptr<Session> session = make_session(backend_);
  id = new_session_id();
  std::lock_guard lock(mu_);
  if (sessions_.size() >= max_sessions_) {
    // The least recently used goes; a call it has under way still finishes (it holds the session).
    auto oldest = sessions_.begin();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
      if (it->second.last_used < oldest->second.last_used) oldest = it;
    }
    sessions_.erase(oldest);
  }
  sessions_[id] = Entry{session, std::chrono::steady_clock::now()};
  return session;
}

std::shared_ptr<Session> HttpTransport::find_session(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return nullptr;
  it->second.last_used = std::chrono::steady_clock::now();
  return it->second.session;
}

void HttpTransport::post(const httplib::Request& req, httplib::Response& res) {
  Result<Json> message = Json::parse(req.body);
  if (!message.ok()) {
    refuse(res, 400, kParseError, fmt::format("parse error: {}", message.status().message()));
    return;
  }
  if (std::string version = req.get_header_value("MCP-Protocol-Version"); !version.empty() && !supported_protocol_version(version)) {
    refuse(res, 400, kInvalidRequest,
           fmt::format("unsupported MCP-Protocol-Version: {} (this server speaks {})", version, kProtocolVersions[0]));
    return;
  }
  const Json* method = message->is_object() ? message->find("method") : nullptr;
  bool initialize = method && method->is_string() && method->as_string() == "initialize" && message->find("id");
  std::string session_id = req.get_header_value("Mcp-Session-Id");
  std::shared_ptr<Session> session;
  if (initialize) {
    session = open_session(session_id);
  } else if (session_id.empty()) {
    refuse(res, 400, kInvalidRequest, "Mcp-Session-Id header required: send initialize first");
    return;
  } else if (!(session = find_session(session_id))) {
    // The session ended (DELETE, eviction, a restart): the client starts a new one.
    refuse(res, 404, kInvalidRequest, "unknown or ended session: send initialize again");
    return;
  }
  res.set_header("Mcp-Session-Id", session_id);

  bool request = message->is_object() && message->find("id") && method;
  if (!request) {
    // A notification or a response: accepted, nothing to answer.
    if (std::optional<Json> reply = session->handle(*message, nullptr)) {
      res.status = 400;
      res.set_content(reply->dump(), kJson);
      return;
    }
    res.status = 202;
    return;
  }
  if (!Session::long_running(*message) || !accepts_event_stream(req)) {
    // Short requests, and clients that cannot read a stream, get one JSON answer (without progress).
    std::optional<Json> reply = session->handle(*message, nullptr);
    res.status = reply ? 200 : 202;
    if (reply) res.set_content(reply->dump(), kJson);
    return;
  }
  // A tool call streams: its progress notifications as they happen, then its answer, as
  // server-sent events in a chunked response the handler writes itself, each event sent at once.
  res.status = 200;
  res.set_header("Content-Type", "text/event-stream");
  res.set_header("Cache-Control", "no-cache");
  bool gone = !stream_current_head(res);  // with the session id and CORS headers already on res
  if (gone) return;  // the client left before the call started: nothing is spent for nobody
  std::mutex write_mu;
  auto emit = [&](std::string_view data) {
    std::lock_guard lock(write_mu);
    if (gone) return;
    if (!stream_current_chunk(data)) {
      // The client went away: nobody will read this call's answer, so it stops spending.
      gone = true;
      if (const Json* id = message->find("id")) session->cancel(*id);
    }
  };
  std::optional<Json> reply = session->handle(*message, [&](const Json& msg) { emit(sse_event(msg)); });
  if (reply) emit(sse_event(*reply));
  std::lock_guard lock(write_mu);
  if (!gone) end_current_stream();
}

void HttpTransport::get(const httplib::Request&, httplib::Response& res) {
  // The server never sends requests or notifications of its own outside a call, so it offers no
  // standalone stream (the protocol allows 405 here).
  res.set_header("Allow", "POST, DELETE");
  refuse(res, 405, kInvalidRequest, "GET /mcp: this server opens no standalone stream; POST messages");
}

void HttpTransport::del(const httplib::Request& req, httplib::Response& res) {
  std::string id = req.get_header_value("Mcp-Session-Id");
  if (id.empty()) {
    refuse(res, 400, kInvalidRequest, "Mcp-Session-Id header required");
    return;
  }
  std::shared_ptr<Session> ended;
  {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(id);
    if (it != sessions_.end()) {
      ended = std::move(it->second.session);
      sessions_.erase(it);
    }
  }
  if (!ended) {
    refuse(res, 404, kInvalidRequest, "unknown or ended session");
    return;
  }
  // Nobody will read the answers of calls still running in it.
  ended->cancel_all();
  res.status = 204;
}

}  // namespace leadenrich::internal::mcp
