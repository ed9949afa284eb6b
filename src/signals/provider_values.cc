#include "signals/provider_values.h"

#include <cctype>
#include <cmath>

namespace leadenrich::internal {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A string, a number's text or a boolean's word; nullopt for null, empty text and containers.
std::optional<std::string> text_of(const Json& v) {
  switch (v.type()) {
    case Json::Type::kString: {
      std::string_view t = trim(v.as_string());
      if (t.empty()) return std::nullopt;
      return std::string(t);
    }
    case Json::Type::kNumber: return v.number_text();
    case Json::Type::kBool: return std::string(v.as_bool() ? "true" : "false");
    default: return std::nullopt;
  }
}

// The first member of `object` named any of `keys` that is not null.
const Json* member(const Json& object, std::initializer_list<std::string_view> keys) {
  for (std::string_view k : keys) {
    const Json* v = object.find(k);
    if (v != nullptr && !v->is_null()) return v;
  }
  return nullptr;
}

// The value of output role `role` in `fields`, trying each accepted field name in turn.
const Json* role_value(const SignalSpec& spec, const Json::Object& fields, std::string_view role) {
  for (const OutputField& out : spec.outputs) {
    if (out.role != role) continue;
    for (const std::string& name : out.names) {
      for (const auto& [key, value] : fields) {
        if (key == name && !value.is_null()) return &value;
      }
    }
  }
  return nullptr;
}

// Lists sometimes arrive as a JSON string holding the list; read it if so.
Json unwrap_list(const Json& v) {
  if (v.is_string()) {
    std::string_view t = trim(v.as_string());
    if (!t.empty() && (t.front() == '[' || t.front() == '{')) {
      Result<Json> parsed = Json::parse(t);
      if (parsed.ok()) return unwrap_list(*parsed);
    }
    return v;
  }
  if (v.is_object()) {
    if (const Json* inner = member(v, {"items", "data", "results", "technologies", "posts", "rounds"})) {
      if (inner->is_array()) return *inner;
    }
  }
  return v;
}

std::optional<int> year_of(const Json& v) {
  std::optional<NumberRange> r = parse_number_range(v);
  if (!r) return std::nullopt;
  double y = r->min;
  if (std::trunc(y) != y || y < 1000 || y > 3000) return std::nullopt;
  return static_cast<int>(y);
}

std::vector<std::string> names_of(const Json& v) {
  std::vector<std::string> out;
  Json list = unwrap_list(v);
  if (list.is_string()) {
    std::string_view s = list.as_string();
    std::size_t start = 0;
    while (start <= s.size()) {
      std::size_t end = s.find_first_of(",;\n", start);
      if (end == std::string_view::npos) end = s.size();
      std::string_view item = trim(s.substr(start, end - start));
      if (!item.empty()) out.emplace_back(item);
      start = end + 1;
    }
  } else if (list.is_array()) {
    for (const Json& item : list.as_array()) {
      std::optional<std::string> name;
      if (item.is_object()) {
        if (const Json* n = member(item, {"name", "investor_name", "title", "label"})) name = text_of(*n);
      } else {
        name = text_of(item);
      }
      if (name) out.push_back(std::move(*name));
    }
  } else if (auto t = text_of(list)) {
    out.push_back(std::move(*t));
  }
  return out;
}

}  // namespace leadenrich::internal
