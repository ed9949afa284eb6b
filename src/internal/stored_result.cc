#include "internal/stored_result.h"

namespace leadenrich::internal {

bool valid_api_id(std::string_view id) {
  if (id.empty() || id.size() > 128 || id == "." || id == "..") return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == ':' || c == '@' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Json stored_result_summary(std::string_view stored) {
  Result<Json> parsed = Json::parse(stored);
  if (!parsed.ok()) return nullptr;
  Json::Object out;
  for (const char* key : {"quality_score", "signals_found", "signals_missed", "enriched_at"}) {
    const Json* v = parsed->find(key);
    out.emplace_back(key, v ? *v : Json());
  }
  Json::Object statuses;
  if (const Json* signals = parsed->find("signals"); signals && signals->is_object()) {
    for (const auto& [name, entry] : signals->as_object()) {
      const Json* status = entry.find("status");
      statuses.emplace_back(name, status ? *status : Json());
    }
  }
  out.emplace_back("statuses", Json(std::move(statuses)));
  return Json(std::move(out));
}

}  // namespace leadenrich::internal
