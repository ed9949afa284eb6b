// The Model Context Protocol's JSON-RPC layer, whatever the transport: one Session per client
// connection (a stdio process, an Mcp-Session-Id over HTTP). It checks messages, negotiates the
// protocol revision, lists tools, checks a call's arguments against the tool's inputSchema, runs
// it with a progress callback and a cancellation token, and answers. The tools themselves
// (mcp_tools.h) are plain functions over the library; nothing here knows about leads.
#ifndef LEADENRICH_INTERNAL_MCP_SESSION_H_
#define LEADENRICH_INTERNAL_MCP_SESSION_H_

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "leadenrich/engine.h"
#include "leadenrich/json.h"

namespace leadenrich::internal::mcp {

/// JSON-RPC 2.0 error codes.
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;

/// Protocol revisions this server speaks, newest first; the first is offered to clients that
/// ask for one it does not know. Not 2025-03-26: that revision requires JSON-RPC batches.
inline constexpr std::string_view kProtocolVersions[] = {"2025-06-18"};
bool supported_protocol_version(std::string_view version);

/// What a tool call gets besides its (already checked) arguments.
struct ToolContext {
  /// Reports progress; sent as notifications/progress only when the caller gave a progressToken,
  /// and only when `progress` grew. total may be unknown.
  std::function<void(double progress, std::optional<double> total, const std::string& message)> progress;
  /// Cancelled by notifications/cancelled for this request, or when the client goes away.
  std::shared_ptr<CancellationToken> cancel;
};

/// A tool's answer: structuredContent plus a short text for the model. An error result
/// (isError) carries only its message: no structuredContent, so no output schema applies.
struct ToolResult {
  Json structured;
  std::string text;
  bool is_error = false;

  static ToolResult error(std::string message) { return ToolResult{Json(), std::move(message), true}; }
};

struct Tool {
  std::string name;
  std::string title;
  std::string description;
  Json input_schema;
  Json output_schema;
  Json annotations;
  std::function<ToolResult(const Json& arguments, const ToolContext& context)> run;
};

/// Checks `value` against the subset of JSON Schema the tools' inputSchemas use (type, properties,
/// required, additionalProperties: false, enum, minimum, maximum, minLength, maxLength, pattern,
/// minItems, maxItems, items, minProperties). Returns an error naming the path ("arguments.signals[2]") and
/// what was expected, or nullopt when it fits.
std::optional<std::string> check_schema(const Json& schema, const Json& value, const std::string& path);

/// One client's protocol state. Thread-safe: a transport may run a long tools/call on one thread
/// while it hands the same session a notifications/cancelled from another.
class Session {
 public:
  /// Sends a message tied to the request being answered (progress) before its response.
  using Send = std::function<void(const Json& message)>;

  Session(std::vector<Tool> tools, std::string server_name, std::string server_version,
          std::string instructions = {});

  /// Handles one message's text: the response to send, or nullopt when there is none (a
  /// notification, a client's response, a request cancelled while it ran). Text that is not
  /// JSON gets a parse error (-32700) with id null.
  std::optional<Json> handle_text(std::string_view text, const Send& send);
  /// The same for a parsed message.
  std::optional<Json> handle(const Json& message, const Send& send);

  /// True for a request that may run long (tools/call): transports run it apart from the reader
  /// so that a cancellation can arrive while it runs.
  static bool long_running(const Json& message);

  /// Cancels every call under way (the client went away, the server is stopping).
  void cancel_all();
  /// Cancels the call under way with this request id, if any (its answer's reader went away).
  void cancel(const Json& id);

  /// The revision agreed at initialize, empty before.
  std::string protocol_version() const;

  /// JSON-RPC envelopes.
  static Json error_response(const Json& id, int code, std::string_view message);
  static Json result_response(const Json& id, Json result);
  static Json notification(std::string_view method, Json params);

 private:
  Json initialize(const Json& params, const Json& id);
  Json tools_list() const;
  std::optional<Json> tools_call(const Json& id, const Json& params, const Send& send);
  void cancelled(const Json& params);
  const Tool* find_tool(std::string_view name) const;

  std::vector<Tool> tools_;
  std::string server_name_;
  std::string server_version_;
  std::string instructions_;

  mutable std::mutex mu_;
  std::string protocol_version_;
  bool initialize_seen_ = false;
  /// Calls under way by request id (its JSON text).
  std::map<std::string, std::shared_ptr<CancellationToken>> running_;
};

}  // namespace leadenrich::internal::mcp

#endif  // LEADENRICH_INTERNAL_MCP_SESSION_H_
