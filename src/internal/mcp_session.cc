#include "internal/mcp_session.h"

#include <algorithm>
#include <cmath>
#include <regex>

#include <fmt/format.h>

namespace leadenrich::internal::mcp {
namespace {

/// The JSON Schema type name a value satisfies most narrowly ("integer" for whole numbers).
bool has_type(const Json& value, std::string_view type) {
  if (type == "object") return value.is_object();
  if (type == "array") return value.is_array();
  if (type == "string") return value.is_string();
  if (type == "boolean") return value.is_bool();
  if (type == "null") return value.is_null();
  if (type == "number") return value.is_number() && value.to_double().has_value();
  if (type == "integer") {
    std::optional<double> d = value.is_number() ? value.to_double() : std::nullopt;
    return d && std::isfinite(*d) && std::floor(*d) == *d;
  }
  return false;
}

std::string_view kind_of(const Json& value) {
  if (has_type(value, "integer")) return "integer";
  return value.type_name();
}

std::optional<double> number_in(const Json& schema, std::string_view key) {
  const Json* v = schema.find(key);
  return v ? v->to_double() : std::nullopt;
}

/// A request id as JSON-RPC allows it here: a string or an integer (never null).
bool valid_id(const Json& id) { return id.is_string() || (id.is_number() && id.to_int().has_value()); }

/// A progress token: a string or an integer.
bool valid_token(const Json& token) { return token.is_string() || (token.is_number() && token.to_int().has_value()); }

}  // namespace

bool supported_protocol_version(std::string_view version) {
  return std::find(std::begin(kProtocolVersions), std::end(kProtocolVersions), version) != std::end(kProtocolVersions);
}

std::optional<std::string> check_schema(const Json& schema, const Json& value, const std::string& path) {
  if (const Json* type = schema.find("type"); type && type->is_string() && !has_type(value, type->as_string())) {
    return fmt::format("{}: expected {}, got {}", path, type->as_string(), kind_of(value));
  }
  if (const Json* allowed = schema.find("enum"); allowed && allowed->is_array()) {
    const Json::Array& options = allowed->as_array();
    if (std::find(options.begin(), options.end(), value) == options.end()) {
      std::string list;
      for (const Json& o : options) list += (list.empty() ? "" : ", ") + o.to_text();
      return fmt::format("{}: \"{}\" is not one of {}", path, value.to_text(), list);
    }
  }
  if (value.is_number()) {
    double d = value.to_double().value_or(0);
    if (std::optional<double> min = number_in(schema, "minimum"); min && d < *min) {
      return fmt::format("{}: {} is below the minimum {}", path, value.number_text(), Json(*min).dump());
    }
    if (std::optional<double> max = number_in(schema, "maximum"); max && d > *max) {
      return fmt::format("{}: {} is above the maximum {}", path, value.number_text(), Json(*max).dump());
    }
  }
  if (value.is_string()) {
    if (const Json* pattern = schema.find("pattern"); pattern && pattern->is_string()) {
      // ECMAScript, as JSON Schema (and the clients checking the same schema) read patterns.
      if (!std::regex_search(value.as_string(), std::regex(pattern->as_string(), std::regex::ECMAScript))) {
        return fmt::format("{}: {} does not match the pattern {}", path, value.dump(), pattern->as_string());
      }
    }
    if (std::optional<double> min = number_in(schema, "minLength"); min && static_cast<double>(value.as_string().size()) < *min) {
      return fmt::format("{}: must not be shorter than {} characters", path, Json(*min).dump());
    }
    if (std::optional<double> max = number_in(schema, "maxLength"); max && static_cast<double>(value.as_string().size()) > *max) {
      return fmt::format("{}: must not be longer than {} characters", path, Json(*max).dump());
    }
  }
  if (value.is_array()) {
    const Json::Array& items = value.as_array();
    if (std::optional<double> min = number_in(schema, "minItems"); min && static_cast<double>(items.size()) < *min) {
      return fmt::format("{}: needs at least {} items", path, Json(*min).dump());
    }
    if (std::optional<double> max = number_in(schema, "maxItems"); max && static_cast<double>(items.size()) > *max) {
      return fmt::format("{}: {} items, at most {}", path, items.size(), Json(*max).dump());
    }
    if (const Json* item_schema = schema.find("items"); item_schema && item_schema->is_object()) {
      for (std::size_t i = 0; i < items.size(); ++i) {
        if (auto e = check_schema(*item_schema, items[i], fmt::format("{}[{}]", path, i))) return e;
      }
    }
  }
  if (value.is_object()) {
    const Json* properties = schema.find("properties");
    if (const Json* required = schema.find("required"); required && required->is_array()) {
      for (const Json& name : required->as_array()) {
        if (name.is_string() && value.find(name.as_string()) == nullptr) {
          return fmt::format("{}: {} is required", path, name.as_string());
        }
      }
    }
    if (std::optional<double> min = number_in(schema, "minProperties"); min && static_cast<double>(value.as_object().size()) < *min) {
      return fmt::format("{}: needs at least {} member", path, Json(*min).dump());
    }
    const Json* additional = schema.find("additionalProperties");
    bool closed = additional && additional->is_bool() && !additional->as_bool();
    for (const auto& [key, member] : value.as_object()) {
      const Json* member_schema = properties ? properties->find(key) : nullptr;
      if (member_schema == nullptr) {
        if (closed) return fmt::format("{}: unknown member \"{}\"", path, key);
        continue;
      }
      if (auto e = check_schema(*member_schema, member, path + "." + key)) return e;
    }
  }
  return std::nullopt;
}

Session::Session(std::vector<Tool> tools, std::string server_name, std::string server_version, std::string instructions)
    : tools_(std::move(tools)),
      server_name_(std::move(server_name)),
      server_version_(std::move(server_version)),
      instructions_(std::move(instructions)) {}

Json Session::error_response(const Json& id, int code, std::string_view message) {
  return Json(Json::Object{{"jsonrpc", Json("2.0")},
                           {"id", id},
                           {"error", Json(Json::Object{{"code", Json(code)}, {"message", Json(message)}})}});
}

Json Session::result_response(const Json& id, Json result) {
  return Json(Json::Object{{"jsonrpc", Json("2.0")}, {"id", id}, {"result", std::move(result)}});
}

Json Session::notification(std::string_view method, Json params) {
  return Json(Json::Object{{"jsonrpc", Json("2.0")}, {"method", Json(method)}, {"params", std::move(params)}});
}

bool Session::long_running(const Json& message) {
  const Json* method = message.find("method");
  return message.find("id") != nullptr && method && method->is_string() && method->as_string() == "tools/call";
}

std::string Session::protocol_version() const {
  std::lock_guard lock(mu_);
  return protocol_version_;
}

void Session::cancel_all() {
  std::lock_guard lock(mu_);
  for (auto& [id, token] : running_) token->cancel();
}

std::optional<Json> Session::handle_text(std::string_view text, const Send& send) {
  Result<Json> parsed = Json::parse(text);
  if (!parsed.ok()) return error_response(Json(), kParseError, fmt::format("parse error: {}", parsed.status().message()));
  return handle(*parsed, send);
}

std::optional<Json> Session::handle(const Json& message, const Send& send) {
  if (message.is_array()) {
    return error_response(Json(), kInvalidRequest, "JSON-RPC batches are not supported (protocol revision 2025-06-18)");
  }
  if (!message.is_object()) return error_response(Json(), kInvalidRequest, "a JSON-RPC message must be an object");
  const Json* version = message.find("jsonrpc");
  const Json* id = message.find("id");
  const Json* method = message.find("method");
  Json reply_id = id && valid_id(*id) ? *id : Json();
  if (!version || !version->is_string() || version->as_string() != "2.0") {
    return id ? std::optional<Json>(error_response(reply_id, kInvalidRequest, "jsonrpc must be \"2.0\"")) : std::nullopt;
  }
  if (method == nullptr) {
    // A response to a request of ours: this server sends none, so there is nothing to match.
    if (message.find("result") || message.find("error")) return std::nullopt;
    return error_response(reply_id, kInvalidRequest, "a request needs a method");
  }
  if (!method->is_string()) return error_response(reply_id, kInvalidRequest, "method must be a string");
  const std::string& name = method->as_string();
  static const Json kNoParams = Json(Json::Object{});
  const Json* params_member = message.find("params");
  if (params_member && !params_member->is_object()) {
    return id ? std::optional<Json>(error_response(reply_id, kInvalidParams, "params must be an object")) : std::nullopt;
  }
  const Json& params = params_member ? *params_member : kNoParams;

  if (id == nullptr) {  // a notification: never answered
    if (name == "notifications/cancelled") cancelled(params);
    // notifications/initialized and anything unknown need nothing from a tools-only server.
    return std::nullopt;
  }
  if (!valid_id(*id)) return error_response(Json(), kInvalidRequest, "id must be a string or an integer");

  if (name == "initialize") return initialize(params, *id);
  if (name == "ping") return result_response(*id, Json(Json::Object{}));
  {
    std::lock_guard lock(mu_);
    if (!initialize_seen_) {
      return error_response(*id, kInvalidRequest, fmt::format("{} before initialize: send initialize first", name));
    }
  }
  if (name == "tools/list") return result_response(*id, tools_list());
  if (name == "tools/call") return tools_call(*id, params, send);
  return error_response(*id, kMethodNotFound, fmt::format("method not found: {}", name));
}

Json Session::initialize(const Json& params, const Json& id) {
  const Json* asked = params.find("protocolVersion");
  if (!asked || !asked->is_string()) return error_response(id, kInvalidParams, "initialize: protocolVersion (a string) is required");
  std::lock_guard lock(mu_);
  if (initialize_seen_) return error_response(id, kInvalidRequest, "initialize: this session is already initialized");
  initialize_seen_ = true;
  // The client's revision when this server speaks it, else the newest one it speaks: the client
  // then decides whether it can go on.
  protocol_version_ = supported_protocol_version(asked->as_string()) ? asked->as_string() : std::string(kProtocolVersions[0]);
  Json::Object result{
      {"protocolVersion", Json(protocol_version_)},
      {"capabilities", Json(Json::Object{{"tools", Json(Json::Object{{"listChanged", Json(false)}})}})},
      {"serverInfo", Json(Json::Object{{"name", Json(server_name_)}, {"version", Json(server_version_)}})}};
  if (!instructions_.empty()) result.emplace_back("instructions", Json(instructions_));
  return result_response(id, Json(std::move(result)));
}

Json Session::tools_list() const {
  Json::Array list;
  for (const Tool& t : tools_) {
    list.emplace_back(Json::Object{{"name", Json(t.name)},
                                   {"title", Json(t.title)},
                                   {"description", Json(t.description)},
                                   {"inputSchema", t.input_schema},
                                   {"outputSchema", t.output_schema},
                                   {"annotations", t.annotations}});
  }
  return Json(Json::Object{{"tools", Json(std::move(list))}});
}

const Tool* Session::find_tool(std::string_view name) const {
  for (const Tool& t : tools_) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

void Session::cancelled(const Json& params) {
  const Json* id = params.find("requestId");
  if (!id || !valid_id(*id)) return;  // nothing to match: ignored, as the protocol asks
  cancel(*id);
}

void Session::cancel(const Json& id) {
  std::lock_guard lock(mu_);
  auto it = running_.find(id.dump());
  if (it != running_.end()) it->second->cancel();
}

std::optional<Json> Session::tools_call(const Json& id, const Json& params, const Send& send) {
  const Json* name = params.find("name");
  if (!name || !name->is_string()) return error_response(id, kInvalidParams, "tools/call: name (a string) is required");
  const Tool* tool = find_tool(name->as_string());
  if (tool == nullptr) return error_response(id, kInvalidParams, fmt::format("unknown tool: {}", name->as_string()));
  static const Json kNoArguments = Json(Json::Object{});
  const Json* arguments = params.find("arguments");
  if (arguments && !arguments->is_object()) return error_response(id, kInvalidParams, "tools/call: arguments must be an object");
  const Json& args = arguments ? *arguments : kNoArguments;

  // A bad argument is the model's to fix: an error result it can read, not a protocol error.
  if (std::optional<std::string> bad = check_schema(tool->input_schema, args, "arguments")) {
    return result_response(id, Json(Json::Object{{"content", Json(Json::Array{Json(Json::Object{{"type", Json("text")}, {"text", Json(*bad)}})})},
                                                 {"isError", Json(true)}}));
  }

  std::optional<Json> token;
  if (const Json* meta = params.find("_meta"); meta && meta->is_object()) {
    if (const Json* t = meta->find("progressToken"); t && valid_token(*t)) token = *t;
  }
  ToolContext context;
  context.cancel = std::make_shared<CancellationToken>();
  std::string key = id.dump();
  {
    std::lock_guard lock(mu_);
    if (!running_.emplace(key, context.cancel).second) {
      return error_response(id, kInvalidRequest, fmt::format("request id {} is already in use by a call under way", key));
    }
  }
  double last_progress = -1;
  context.progress = [&](double progress, std::optional<double> total, const std::string& message) {
    // Progress must grow with each notification; without a token the caller asked for none.
    if (!token || !send || progress <= last_progress || context.cancel->cancelled()) return;
    last_progress = progress;
    Json::Object p{{"progressToken", *token}, {"progress", Json(progress)}};
    if (total) p.emplace_back("total", Json(*total));
    if (!message.empty()) p.emplace_back("message", Json(message));
    send(notification("notifications/progress", Json(std::move(p))));
  };

  ToolResult result;
  try {
    result = tool->run(args, context);
  } catch (const std::exception& e) {
    result = ToolResult::error(fmt::format("{} failed: {}", tool->name, e.what()));
  }
  {
    std::lock_guard lock(mu_);
    running_.erase(key);
  }
  // The client gave up on this request: it expects no answer.
  if (context.cancel->cancelled()) return std::nullopt;

  Json::Object out{{"content", Json(Json::Array{Json(Json::Object{{"type", Json("text")}, {"text", Json(result.text)}})})}};
  if (result.is_error) {
    out.emplace_back("isError", Json(true));
  } else {
    out.emplace_back("structuredContent", std::move(result.structured));
    out.emplace_back("isError", Json(false));
  }
  return result_response(id, Json(std::move(out)));
}

}  // namespace leadenrich::internal::mcp
