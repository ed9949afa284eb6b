// MCP's streamable HTTP transport at leadenrich-server's /mcp: POST carries one JSON-RPC message
// (answered with JSON, or with server-sent events when a tool call streams progress), sessions
// are named by Mcp-Session-Id, DELETE ends one, GET (a stream the server would open on its own)
// is 405. Authentication, limits and the log are the server's, before and after these handlers.
#ifndef LEADENRICH_INTERNAL_MCP_HTTP_H_
#define LEADENRICH_INTERNAL_MCP_HTTP_H_

#include <httplib.h>

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "internal/mcp_session.h"
#include "leadenrich/mcp.h"

namespace leadenrich::internal::mcp {

class HttpTransport {
 public:
  /// At most `max_sessions` sessions are kept; a new one past that ends the least recently used.
  HttpTransport(McpBackend backend, std::size_t max_sessions = 1000);

  void post(const httplib::Request& req, httplib::Response& res);
  void get(const httplib::Request& req, httplib::Response& res);
  void del(const httplib::Request& req, httplib::Response& res);

  std::size_t sessions() const;

 private:
  struct Entry {
    std::shared_ptr<Session> session;
    std::chrono::steady_clock::time_point last_used;
  };
  std::shared_ptr<Session> open_session(std::string& id);
  std::shared_ptr<Session> find_session(const std::string& id);

  McpBackend backend_;
  std::size_t max_sessions_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> sessions_;
};

}  // namespace leadenrich::internal::mcp

#endif  // LEADENRICH_INTERNAL_MCP_HTTP_H_
