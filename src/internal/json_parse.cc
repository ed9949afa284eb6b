// Json::parse: simdjson's DOM parser (which picks the fastest kernel for the CPU at run time)
// validates the whole text, then the tape is copied into a Json tree.
#include <charconv>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <simdjson.h>

#include "internal/json_members.h"
#include "leadenrich/json.h"

namespace leadenrich {
namespace {

namespace dom = simdjson::dom;

Json number_json(dom::element e) {
  switch (e.type()) {
    case dom::element_type::INT64: return Json(static_cast<std::int64_t>(e.get_int64().value_unsafe()));
    case dom::element_type::UINT64: {
      std::uint64_t v = e.get_uint64().value_unsafe();
      return Json::number(std::to_string(v)).value();
    }
    default: return Json(e.get_double().value_unsafe());
  }
}

Json to_tree(dom::element e) {
  switch (e.type()) {
    case dom::element_type::NULL_VALUE: return Json();
    case dom::element_type::BOOL: return Json(e.get_bool().value_unsafe());
    case dom::element_type::INT64:
    case dom::element_type::UINT64:
    case dom::element_type::DOUBLE: return number_json(e);
    case dom::element_type::STRING: return Json(std::string(e.get_string().value_unsafe()));
    case dom::element_type::ARRAY: {
      dom::array arr = e.get_array().value_unsafe();
      Json::Array items;
      items.reserve(arr.size());
      for (dom::element item : arr) items.push_back(to_tree(item));
      return Json(std::move(items));
    }
    case dom::element_type::OBJECT: {
      dom::object obj = e.get_object().value_unsafe();
      Json::Object members;
      members.reserve(obj.size());
      for (dom::key_value_pair kv : obj) members.emplace_back(std::string(kv.key), to_tree(kv.value));
      return Json(std::move(members));
    }
  }
  return Json();
}

// simdjson reports a cut-off document as a generic structure error, so on the error path the
// text is scanned once more: input that ends inside a string or an open container was truncated.
bool ends_inside_value(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') ++depth;
    else if ((c == ']' || c == '}') && depth > 0) --depth;
  }
  return in_string || depth > 0;
}

// A parser keeps its buffers between calls; the document it returns lives until its next parse.
dom::parser make_parser() {
  dom::parser parser(/*max_capacity=*/simdjson::SIMDJSON_MAXSIZE_BYTES);
  simdjson::error_code err = parser.allocate(4096, /*max_depth=*/256);
  (void)err;  // then the parser allocates on first use, with its default depth
  return parser;
}

Result<dom::element> parse_document(dom::parser& parser, std::string_view text) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return invalid_argument("invalid JSON: the input is empty");
  }
  dom::element root;
  simdjson::error_code err = parser.parse(text.data(), text.size()).get(root);
  if (!err) return root;
  if (err == simdjson::UNCLOSED_STRING || err == simdjson::INCOMPLETE_ARRAY_OR_OBJECT ||
      (err == simdjson::TAPE_ERROR && ends_inside_value(text))) {
    return data_loss(fmt::format("invalid JSON: truncated ({})", simdjson::error_message(err)));
  }
  if (err == simdjson::DEPTH_ERROR) return invalid_argument("invalid JSON: nested deeper than 256 levels");
  return invalid_argument(fmt::format("invalid JSON: {}", simdjson::error_message(err)));
}

}  // namespace

Result<Json> Json::parse(std::string_view text) {
  thread_local dom::parser parser = make_parser();  // one per thread
  Result<dom::element> root = parse_document(parser, text);
  if (!root.ok()) return root.status();
  return to_tree(*root);
}

namespace internal {

Result<std::optional<Json>> parse_object_members(std::string_view text, const MemberSink& member) {
  // A parser of its own: `member` may parse JSON (with Json::parse) while this document is walked.
  thread_local dom::parser parser = make_parser();
  Result<dom::element> root = parse_document(parser, text);
  if (!root.ok()) return root.status();
  if (root->type() != dom::element_type::OBJECT) return std::optional<Json>(to_tree(*root));
  dom::object obj = root->get_object().value_unsafe();
  for (dom::key_value_pair kv : obj) {
    LEADENRICH_RETURN_IF_ERROR(member(kv.key, to_tree(kv.value)));
  }
  return std::optional<Json>();
}

namespace {
const dom::element& element_of(const void* p) { return *static_cast<const dom::element*>(p); }
}  // namespace

Json::Type JsonNode::type() const {
  switch (element_of(element_).type()) {
    case dom::element_type::NULL_VALUE: return Json::Type::kNull;
    case dom::element_type::BOOL: return Json::Type::kBool;
    case dom::element_type::INT64:
    case dom::element_type::UINT64:
    case dom::element_type::DOUBLE: return Json::Type::kNumber;
    case dom::element_type::STRING: return Json::Type::kString;
    case dom::element_type::ARRAY: return Json::Type::kArray;
    case dom::element_type::OBJECT: return Json::Type::kObject;
  }
  return Json::Type::kNull;
}

Json JsonNode::tree() const { return to_tree(element_of(element_)); }

std::string JsonNode::text() const {
  const dom::element& e = element_of(element_);
  if (e.type() == dom::element_type::STRING) return std::string(e.get_string().value_unsafe());
  if (e.type() == dom::element_type::ARRAY || e.type() == dom::element_type::OBJECT) return {};
  return to_tree(e).to_text();  // numbers and booleans exactly as a tree writes them
}

Status JsonNode::members(const std::function<Status(std::string_view key, const JsonNode& value)>& member) const {
  const dom::element& e = element_of(element_);
  if (e.type() != dom::element_type::OBJECT) return {};
  dom::object obj = e.get_object().value_unsafe();
  for (dom::key_value_pair kv : obj) {
    dom::element value = kv.value;
    LEADENRICH_RETURN_IF_ERROR(member(kv.key, JsonNode(&value)));
  }
  return {};
}

Status walk_json(std::string_view text, const std::function<Status(const JsonNode& root)>& root) {
  thread_local dom::parser parser = make_parser();  // its own: `root` may call Json::parse
  Result<dom::element> doc = parse_document(parser, text);
  if (!doc.ok()) return doc.status();
  dom::element e = *doc;
  return root(JsonNode(&e));
}

}  // namespace internal

}  // namespace leadenrich
