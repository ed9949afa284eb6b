// A small JSON value type: what providers send is kept as it came (passthrough lead fields,
// pipe0 field values), with objects in their original key order so output is stable.
#ifndef LEADENRICH_JSON_H_
#define LEADENRICH_JSON_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "leadenrich/status.h"

namespace leadenrich {

/// A JSON value. Numbers are held as JSON text: parsed integers exactly, other parsed numbers as
/// the shortest text that reads back to the same double.
/// Objects are ordered lists of members; duplicate keys are kept as they came.
/// Value type; not synchronised.
class Json {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  struct Number {
    std::string text;  ///< JSON number text, e.g. "250", "-1.5e3"
    friend bool operator==(const Number& a, const Number& b) { return a.text == b.text; }
    friend bool operator!=(const Number& a, const Number& b) { return !(a == b); }
  };
  using Array = std::vector<Json>;
  using Member = std::pair<std::string, Json>;
  using Object = std::vector<Member>;

  Json() = default;  ///< null
  Json(std::nullptr_t) {}  // NOLINT: implicit by design
  Json(bool b) : v_(b) {}  // NOLINT
  Json(int n) : v_(Number{std::to_string(n)}) {}  // NOLINT
  Json(std::int64_t n) : v_(Number{std::to_string(n)}) {}  // NOLINT
  Json(double d);  // NOLINT: shortest text that round-trips; NaN and infinities become null
  Json(std::string s) : v_(std::move(s)) {}  // NOLINT
  Json(std::string_view s) : v_(std::string(s)) {}  // NOLINT
  Json(const char* s) : v_(std::string(s)) {}  // NOLINT
  Json(Array a) : v_(std::move(a)) {}  // NOLINT
  Json(Object o) : v_(std::move(o)) {}  // NOLINT

  /// A number from its JSON text; fails if `text` is not a valid JSON number.
  static Result<Json> number(std::string_view text);

  /// Parses one JSON document (RFC 8259, UTF-8). Errors name what was wrong.
  /// Returns kInvalidArgument for invalid JSON, kDataLoss for truncated input.
  static Result<Json> parse(std::string_view text);

  Type type() const { return static_cast<Type>(v_.index()); }
  bool is_null() const { return type() == Type::kNull; }
  bool is_bool() const { return type() == Type::kBool; }
  bool is_number() const { return type() == Type::kNumber; }
  bool is_string() const { return type() == Type::kString; }
  bool is_array() const { return type() == Type::kArray; }
  bool is_object() const { return type() == Type::kObject; }

  /// Accessors; calling the wrong one is a programmer error (asserts, then returns an empty value).
  bool as_bool() const;
  const std::string& number_text() const;
  const std::string& as_string() const;
  const Array& as_array() const;
  Array& as_array();
  const Object& as_object() const;
  Object& as_object();

  /// The number as a double, if this is a number.
  std::optional<double> to_double() const;
  /// The number as an integer, if this is a number with an exact integer value in range.
  std::optional<std::int64_t> to_int() const;

  /// A string as it is, a number's text, a boolean's word; empty for null, arrays and objects.
  std::string to_text() const;

  /// The first member named `key`, or nullptr (also when this is not an object).
  const Json* find(std::string_view key) const;
  /// Appends a member (this must be an object or null, which becomes an object).
  Json& set(std::string key, Json value);

  /// Compact JSON text with proper escaping; invalid UTF-8 in strings becomes U+FFFD.
  std::string dump() const;
  void dump_to(std::string& out) const;

  /// "null", "boolean", "number", "string", "array" or "object".
  std::string_view type_name() const;

  friend bool operator==(const Json& a, const Json& b) { return a.v_ == b.v_; }
  friend bool operator!=(const Json& a, const Json& b) { return !(a == b); }

 private:
  std::variant<std::monostate, bool, Number, std::string, Array, Object> v_;
};

}  // namespace leadenrich

#endif  // LEADENRICH_JSON_H_
