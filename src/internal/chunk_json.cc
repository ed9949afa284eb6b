#include "internal/chunk_json.h"

#include <cstdint>
#include <optional>

#include <fmt/format.h>

#include "leadenrich/json.h"

namespace leadenrich::internal {

std::string chunk_leads_json(const WorkChunk& chunk) {
  Json::Array leads;
  leads.reserve(chunk.leads.size());
  for (const auto& [index, lead] : chunk.leads) {
    leads.emplace_back(Json::Array{Json(static_cast<std::int64_t>(index)), to_json(lead)});
  }
  return Json(std::move(leads)).dump();
}

Result<std::vector<std::pair<std::size_t, RawLead>>> parse_chunk_leads(std::string_view text) {
  Result<Json> parsed = Json::parse(text);
  if (!parsed.ok() || !parsed->is_array()) return data_loss("a chunk's leads are not a JSON array");
  std::vector<std::pair<std::size_t, RawLead>> out;
  for (const Json& item : parsed->as_array()) {
    std::optional<std::int64_t> index =
        item.is_array() && item.as_array().size() == 2 ? item.as_array()[0].to_int() : std::nullopt;
    if (!index || *index < 0) return data_loss("a chunk's lead is not [index, lead]");
    Result<RawLead> lead = raw_lead_from_json(item.as_array()[1]);
    if (!lead.ok()) return data_loss(fmt::format("a chunk's lead is unreadable: {}", lead.status().message()));
    out.emplace_back(static_cast<std::size_t>(*index), std::move(lead).value());
  }
  return out;
}

}  // namespace leadenrich::internal
