// Writing and reading leadenrich's own JSON: the pieces the enriched lead (src/lead.cc) and each
// signal's codec (src/signals/*.cc) share, so a signal's value is written and read the same way
// whether it travels in a Json tree, in streamed text or in the store.
#ifndef LEADENRICH_SIGNALS_VALUE_JSON_H_
#define LEADENRICH_SIGNALS_VALUE_JSON_H_

#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "internal/json_write.h"
#include "leadenrich/json.h"
#include "leadenrich/signals.h"
#include "leadenrich/status.h"

namespace leadenrich::internal {

// ---- writing a Json tree ----

inline Json optional_text(const std::optional<std::string>& s) { return s ? Json(*s) : Json(); }
inline Json optional_number(const std::optional<double>& d) { return d ? Json(*d) : Json(); }

inline Json range_json(const std::optional<NumberRange>& r) {
  if (!r) return Json();
  Json::Object o;
  o.emplace_back("min", Json(r->min));
  o.emplace_back("max", optional_number(r->max));
  return Json(std::move(o));
}

// ---- writing text straight away (the same bytes as the tree's dump) ----

/// Writes one JSON object's members in order; close() ends it.
class ObjectOut {
 public:
  explicit ObjectOut(std::string& out) : out_(out) { out_.push_back('{'); }

  /// Starts a member named by one of leadenrich's own keys (plain ASCII, nothing to escape) and
  /// returns the text to append its value to.
  std::string& key(std::string_view k) {
    if (!first_) out_.push_back(',');
    first_ = false;
    out_.push_back('"');
    out_.append(k);
    out_.append("\":", 2);
    return out_;
  }
  /// Starts a member whose key came from outside (a source's extra field): escaped.
  std::string& any_key(std::string_view k) {
    if (!first_) out_.push_back(',');
    first_ = false;
    append_json_string(out_, k);
    out_.push_back(':');
    return out_;
  }
  void null(std::string_view k) { key(k) += "null"; }
  void text(std::string_view k, std::string_view v) { append_json_string(key(k), v); }
  void maybe_text(std::string_view k, const std::optional<std::string>& v) { v ? text(k, *v) : null(k); }
  void number(std::string_view k, double v) { append_json_number(key(k), v); }
  void maybe_number(std::string_view k, const std::optional<double>& v) { v ? number(k, *v) : null(k); }
  void integer(std::string_view k, std::int64_t v) { fmt::format_to(std::back_inserter(key(k)), "{}", v); }
  void boolean(std::string_view k, bool v) { key(k) += v ? "true" : "false"; }
  void raw(std::string_view k, const Json& v) { v.dump_to(key(k)); }
  void timestamp(std::string_view k, const std::optional<Timestamp>& t) {
    t ? text(k, format_timestamp(*t)) : null(k);
  }
  void close() { out_.push_back('}'); }

 private:
  std::string& out_;
  bool first_ = true;
};

/// Appends [f(item), ...]; f appends one item.
template <typename T, typename F>
void append_array(std::string& out, const std::vector<T>& items, F&& f) {
  out.push_back('[');
  bool first = true;
  for (const T& item : items) {
    if (!first) out.push_back(',');
    first = false;
    f(item);
  }
  out.push_back(']');
}

inline void append_range(std::string& out, const std::optional<NumberRange>& r) {
  if (!r) {
    out += "null";
    return;
  }
  ObjectOut o(out);
  o.number("min", r->min);
  o.maybe_number("max", r->max);
  o.close();
}

// ---- reading back (lenient) ----

/// Where a value sits in the document ("$.signals.funding.value.rounds[2]"), kept as links to
/// its parent so the text is built only when an error needs it, never for values that read fine.
class Path {
 public:
  explicit Path(std::string_view root) : name_(root) {}
  Path member(std::string_view key) const { return Path(this, key, 0); }
  Path item(std::size_t index) const { return Path(this, {}, index + 1); }
  std::string str() const {
    if (parent_ == nullptr) return std::string(name_);
    return index_ == 0 ? fmt::format("{}.{}", parent_->str(), name_) : fmt::format("{}[{}]", parent_->str(), index_ - 1);
  }

 private:
  Path(const Path* parent, std::string_view name, std::size_t index) : parent_(parent), name_(name), index_(index) {}
  const Path* parent_ = nullptr;  // outlives this: paths live on the stack of the readers
  std::string_view name_;
  std::size_t index_ = 0;  // 1 + the item's index; 0 for a member
};

/// Reads a scalar as text: strings as they are, numbers as their text, booleans as words.
/// `where()` names the value's path; it is built only for the error, never on the way through.
template <typename Where>
Result<std::optional<std::string>> scalar_text(const Json& v, Where&& where) {
  switch (v.type()) {
    case Json::Type::kNull: return std::optional<std::string>();
    case Json::Type::kString: return std::optional<std::string>(v.as_string());
    case Json::Type::kNumber: return std::optional<std::string>(v.number_text());
    case Json::Type::kBool: return std::optional<std::string>(v.as_bool() ? "true" : "false");
    default:
      return invalid_argument(fmt::format("{}: expected a string, got {}", where(), v.type_name()));
  }
}

/// A path-aware reader over one JSON object.
class ObjectReader {
 public:
  ObjectReader(const Json& j, Path path) : j_(j), path_(path) {}

  const Path& path() const { return path_; }
  Status check_object() const {
    if (j_.is_object()) return {};
    return invalid_argument(fmt::format("{}: expected an object, got {}", path_.str(), j_.type_name()));
  }
  const Json* get(std::string_view key) const {
    const Json* v = j_.find(key);
    return (v == nullptr || v->is_null()) ? nullptr : v;
  }
  std::string at(std::string_view key) const { return path_.member(key).str(); }

  Status text(std::string_view key, std::optional<std::string>& out) const {
    out.reset();
    if (const Json* v = get(key)) {
      Result<std::optional<std::string>> t = scalar_text(*v, [&] { return at(key); });
      if (!t.ok()) return t.status();
      out = std::move(t).value();
    }
    return {};
  }
  Status number(std::string_view key, std::optional<double>& out) const {
    out.reset();
    if (const Json* v = get(key)) {
      out = v->to_double();
      if (!out) return invalid_argument(fmt::format("{}: expected a number, got {}", at(key), v->type_name()));
    }
    return {};
  }
  Json raw(std::string_view key) const {
    const Json* v = j_.find(key);
    return v ? *v : Json();
  }

 private:
  const Json& j_;
  Path path_;
};

inline Result<std::optional<NumberRange>> read_range(const ObjectReader& r, std::string_view key) {
  const Json* v = r.get(key);
  if (v == nullptr) return std::optional<NumberRange>();
  ObjectReader rr(*v, r.path().member(key));
  LEADENRICH_RETURN_IF_ERROR(rr.check_object());
  NumberRange range;
  std::optional<double> min;
  LEADENRICH_RETURN_IF_ERROR(rr.number("min", min));
  LEADENRICH_RETURN_IF_ERROR(rr.number("max", range.max));
  range.min = min.value_or(0);
  return std::optional<NumberRange>(range);
}

/// Calls f(item, path) for each item of the array at `key` (absent or null: none).
template <typename F>
Status for_each_item(const ObjectReader& r, std::string_view key, F&& f) {
  const Json* v = r.get(key);
  if (v == nullptr) return {};
  if (!v->is_array()) return invalid_argument(fmt::format("{}: expected an array, got {}", r.at(key), v->type_name()));
  Path list = r.path().member(key);
  std::size_t i = 0;
  for (const Json& item : v->as_array()) {
    LEADENRICH_RETURN_IF_ERROR(f(item, list.item(i++)));
  }
  return {};
}

}  // namespace leadenrich::internal

#endif  // LEADENRICH_SIGNALS_VALUE_JSON_H_
