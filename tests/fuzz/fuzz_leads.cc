// Lead and enriched-lead readers on arbitrary JSON: errors, never crashes; what reads writes back,
// and the streaming writers write the same bytes as the Json tree.
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string_view>

#include "leadenrich/lead.h"
#include "leadenrich/output.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto raw = leadenrich::parse_raw_lead(text); raw.ok()) {
    if (leadenrich::raw_lead_from_json(leadenrich::to_json(*raw)).value() != *raw) std::abort();
  }
  if (auto e = leadenrich::parse_enriched_lead(text); e.ok()) {
    std::string tree = leadenrich::to_json(*e).dump();
    std::ostringstream out;
    auto writer = leadenrich::make_writer(leadenrich::OutputFormat::kJsonl, out);
    if (!writer->write(*e).ok() || out.str() != tree + "\n") std::abort();
  }
  return 0;
}
