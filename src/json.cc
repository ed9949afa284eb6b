#include "leadenrich/json.h"

#include <cassert>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>

#include <fmt/format.h>

#include "internal/json_write.h"
#include "internal/utf8.h"

namespace leadenrich {
namespace {

// RFC 8259 number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool is_json_number(std::string_view s) {
  std::size_t i = 0;
  auto digits = [&] {
    std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i > start;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

}  // namespace

Json::Json(double d) {
  if (std::isfinite(d)) {
    std::string text;
    append_json_number(text, d);
    v_ = Number{std::move(text)};
  }
}

void append_json_number(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  // Negative zero would write as "-0" and read back as the integer 0: write it as 0.
  if (d == 0) d = 0;
  fmt::format_to(std::back_inserter(out), "{}", d);
}

Result<Json> Json::number(std::string_view text) {
  if (!is_json_number(text)) return invalid_argument(fmt::format("'{}' is not a JSON number", text));
  Json j;
  j.v_ = Number{std::string(text)};
  return j;
}

bool Json::as_bool() const {
  assert(is_bool());
  return is_bool() && std::get<bool>(v_);
}

const std::string& Json::number_text() const {
  static const std::string kEmpty;
  assert(is_number());
  return is_number() ? std::get<Number>(v_).text : kEmpty;
}

const std::string& Json::as_string() const {
  static const std::string kEmpty;
  assert(is_string());
  return is_string() ? std::get<std::string>(v_) : kEmpty;
}

const Json::Array& Json::as_array() const {
  static const Array kEmpty;
  assert(is_array());
  return is_array() ? std::get<Array>(v_) : kEmpty;
}

Json::Array& Json::as_array() {
  if (is_null()) v_ = Array{};
  assert(is_array());
  return std::get<Array>(v_);
}

const Json::Object& Json::as_object() const {
  static const Object kEmpty;
  assert(is_object());
  return is_object() ? std::get<Object>(v_) : kEmpty;
}

Json::Object& Json::as_object() {
  if (is_null()) v_ = Object{};
  assert(is_object());
  return std::get<Object>(v_);
}

std::optional<double> Json::to_double() const {
  if (!is_number()) return std::nullopt;
  const std::string& t = std::get<Number>(v_).text;
  double d = 0;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), d);
  if (ec == std::errc::result_out_of_range) {
    return t.front() == '-' ? -HUGE_VAL : HUGE_VAL;
  }
  if (ec != std::errc()) return std::nullopt;
  return d;
}

std::optional<std::int64_t> Json::to_int() const {
  if (!is_number()) return std::nullopt;
  const std::string& t = std::get<Number>(v_).text;
  std::int64_t n = 0;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
  if (ec == std::errc() && ptr == t.data() + t.size()) return n;
  std::optional<double> d = to_double();
  if (!d || std::trunc(*d) != *d || std::fabs(*d) > 9.0e15) return std::nullopt;
  return static_cast<std::int64_t>(*d);
}

std::string Json::to_text() const {
  switch (type()) {
    case Type::kString: return std::get<std::string>(v_);
    case Type::kNumber: return std::get<Number>(v_).text;
    case Type::kBool: return std::get<bool>(v_) ? "true" : "false";
    default: return "";
  }
}

const Json* Json::find(std::string_view key) const {
  if (!is_object()) return nullptr;
  for (const auto& [k, v] : std::get<Object>(v_)) {
    if (k == key) return &v;
  }
  return nullptr;
}

Json& Json::set(std::string key, Json value) {
  Object& o = as_object();
  o.emplace_back(std::move(key), std::move(value));
  return o.back().second;
}

std::string_view Json::type_name() const {
  switch (type()) {
    case Type::kNull: return "null";
    case Type::kBool: return "boolean";
    case Type::kNumber: return "number";
    case Type::kString: return "string";
    case Type::kArray: return "array";
    case Type::kObject: return "object";
  }
  return "unknown";
}

namespace {

// Whether any of the eight bytes in `word` needs escaping or a UTF-8 check: a control character,
// '"', '\\', DEL or a byte >= 0x80. Exact: no false positives, so plain words are copied whole.
bool word_needs_care(std::uint64_t word) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  auto has_zero = [](std::uint64_t v) { return ((v - kOnes) & ~v & kHigh) != 0; };
  if ((word & kHigh) != 0) return true;  // >= 0x80; below, every byte is ASCII
  return ((word - kOnes * 0x20) & ~word & kHigh) != 0 ||  // < 0x20
         has_zero(word ^ (kOnes * '"')) || has_zero(word ^ (kOnes * '\\')) || has_zero(word ^ (kOnes * 0x7F));
}

bool byte_needs_care(unsigned char p) { return p < 0x20 || p >= 0x7F || p == '"' || p == '\\'; }

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t i = 0;
  while (i < s.size()) {
    // Most text needs no escaping: find the run of plain ASCII (eight bytes at a time while it
    // lasts) and copy it in one append.
    std::size_t plain = i;
    while (plain + 8 <= s.size()) {
      std::uint64_t word = 0;
      std::memcpy(&word, s.data() + plain, 8);
      if (word_needs_care(word)) break;
      plain += 8;
    }
    while (plain < s.size() && !byte_needs_care(static_cast<unsigned char>(s[plain]))) ++plain;
    out.append(s.data() + i, plain - i);
    i = plain;
    if (i == s.size()) break;
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      std::size_t n = internal::utf8_sequence_length(s, i);
      if (n == 0) {
        out += "\xEF\xBF\xBD";  // U+FFFD: never write invalid UTF-8
        ++i;
      } else {
        out.append(s.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:  // the other control characters and DEL
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
    }
    ++i;
  }
  out.push_back('"');
}

void Json::dump_to(std::string& out) const {
  switch (type()) {
    case Type::kNull: out += "null"; break;
    case Type::kBool: out += std::get<bool>(v_) ? "true" : "false"; break;
    case Type::kNumber: out += std::get<Number>(v_).text; break;
    case Type::kString: append_json_string(out, std::get<std::string>(v_)); break;
    case Type::kArray: {
      out.push_back('[');
      bool first = true;
      for (const Json& item : std::get<Array>(v_)) {
        if (!first) out.push_back(',');
        first = false;
        item.dump_to(out);
      }
      out.push_back(']');
      break;
    }
    case Type::kObject: {
      out.push_back('{');
      bool first = true;
      for (const auto& [key, value] : std::get<Object>(v_)) {
        if (!first) out.push_back(',');
        first = false;
        append_json_string(out, key);
        out.push_back(':');
        value.dump_to(out);
      }
      out.push_back('}');
      break;
    }
  }
}

std::string Json::dump() const {
  std::string out;
  dump_to(out);
  return out;
}

}  // namespace leadenrich
