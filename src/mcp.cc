// MCP's stdio transport: newline-delimited JSON-RPC on a pair of descriptors. The reader never
// waits for a tool: each tools/call runs on a thread of its own, so a notifications/cancelled that
// arrives meanwhile reaches the run. Messages are written whole, one per line, under one lock.
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <list>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "internal/mcp_tools.h"
#include "leadenrich/mcp.h"

namespace leadenrich {
namespace {

/// A line longer than this is answered with a parse error and skipped to its end.
constexpr std::size_t kMaxLineBytes = 16 << 20;

class StdioWriter {
 public:
  explicit StdioWriter(int fd) : fd_(fd) {}
  /// Writes one message and its newline; false once a write has failed (the reader went away).
  bool write(const Json& message) {
    std::string line = message.dump();  // dump() escapes control bytes: never a newline inside
    line += '\n';
    std::lock_guard lock(mu_);
    if (failed_) return false;
    std::string_view rest = line;
    while (!rest.empty()) {
      ssize_t n = ::write(fd_, rest.data(), rest.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        failed_ = true;
        return false;
      }
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  bool failed() const {
    std::lock_guard lock(mu_);
    return failed_;
  }

 private:
  int fd_;
  mutable std::mutex mu_;
  bool failed_ = false;
};

struct Call {
  std::thread thread;
  std::atomic<bool> done{false};
};

}  // namespace

Status serve_mcp_stdio(const McpBackend& backend, int in_fd, int out_fd, const std::function<void(const std::string&)>& log) {
  if (!backend.enricher) return invalid_argument("mcp: an enricher is required");
  std::unique_ptr<internal::mcp::Session> session = internal::mcp::make_session(backend);
  StdioWriter out(out_fd);
  std::list<Call> calls;
  auto reap = [&calls] {
    for (auto it = calls.begin(); it != calls.end();) {
      if (!it->done.load()) {
        ++it;
        continue;
      }
      it->thread.join();
      it = calls.erase(it);
    }
  };
  auto send = [&out](const Json& message) { out.write(message); };
  auto handle_line = [&](std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) return;
    Result<Json> message = Json::parse(line);
    if (!message.ok()) {
      send(internal::mcp::Session::error_response(Json(), internal::mcp::kParseError,
                                                  fmt::format("parse error: {}", message.status().message())));
      return;
    }
    if (!internal::mcp::Session::long_running(*message)) {
      if (std::optional<Json> reply = session->handle(*message, send)) send(*reply);
      return;
    }
    reap();
    Call& call = calls.emplace_back();
    call.thread = std::thread([&session, &send, &call, m = std::move(message).value()] {
      if (std::optional<Json> reply = session->handle(m, send)) send(*reply);
      call.done.store(true);
    });
  };

  std::string buffer;
  bool skipping = false;  // inside a line over the limit
  char chunk[64 << 10];
  Status result = ok_status();
  while (!out.failed()) {
    ssize_t n = ::read(in_fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      result = Status(StatusCode::kUnavailable, fmt::format("mcp: reading stdin: {}", std::strerror(errno)));
      break;
    }
    if (n == 0) break;
    std::string_view data(chunk, static_cast<std::size_t>(n));
    while (!data.empty()) {
      std::size_t eol = data.find('\n');
      std::string_view piece = data.substr(0, eol);
      if (!skipping) buffer.append(piece);
      if (buffer.size() > kMaxLineBytes) {
        if (!skipping && log) log(fmt::format("mcp: a message over {} bytes was refused", kMaxLineBytes));
        if (!skipping) {
          send(internal::mcp::Session::error_response(Json(), internal::mcp::kParseError,
                                                      fmt::format("message over {} bytes", kMaxLineBytes)));
        }
        skipping = true;
        buffer.clear();
      }
      if (eol == std::string_view::npos) break;
      if (!skipping) handle_line(buffer);
      skipping = false;
      buffer.clear();
      data.remove_prefix(eol + 1);
    }
  }
  if (!skipping && !buffer.empty() && !out.failed()) handle_line(buffer);  // a last line without its newline
  // At the end of stdin the calls under way are finished and answered (a client closes stdin to
  // shut down, then waits); once stdout fails nobody reads their answers, so they stop spending.
  if (out.failed()) session->cancel_all();
  for (Call& call : calls) call.thread.join();
  if (out.failed() && log) log("mcp: stdout closed; stopping");
  return result;
}

}  // namespace leadenrich
