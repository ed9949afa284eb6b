#include "leadenrich/transport.h"

#include <algorithm>
#include <cctype>

namespace leadenrich {
namespace {

bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

std::optional<std::string> HttpHeaders::get(std::string_view name) const {
  for (const auto& [k, v] : items) {
    if (same_name(k, name)) return v;
  }
  return std::nullopt;
}

void HttpHeaders::set(std::string name, std::string value) {
  items.erase(std::remove_if(items.begin(), items.end(), [&](const auto& kv) { return same_name(kv.first, name); }),
              items.end());
  items.emplace_back(std::move(name), std::move(value));
}

}  // namespace leadenrich
