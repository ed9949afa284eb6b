// The file sources (CSV with a given or detected separator, JSON lines, JSON arrays) on arbitrary
// bytes: every item is a lead or an error with a location; never a crash or a hang.
#include <cstdint>
#include <sstream>
#include <string>

#include "leadenrich/sources.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const leadenrich::FileFormat formats[] = {leadenrich::FileFormat::kCsv, leadenrich::FileFormat::kJsonl,
                                            leadenrich::FileFormat::kJson, leadenrich::FileFormat::kAuto};
  leadenrich::FileSourceOptions options;
  options.format = formats[data[0] % 4];
  options.max_field_bytes = 256;
  // A CSV header must map a column to a lead field; a one-letter name keeps rows reachable.
  options.column_map = {{"a", "email"}};
  if ((data[0] & 0x10) != 0) options.delimiter = (data[0] & 0x20) != 0 ? '\t' : ';';  // else detected
  std::istringstream in(std::string(reinterpret_cast<const char*>(data) + 1, size - 1));
  auto source = leadenrich::make_stream_source(in, "fuzz", options);
  if (!source.ok()) return 0;
  while (auto item = (*source)->next()) {
    if (!item->lead.ok() && item->location.empty()) __builtin_trap();
  }
  return 0;
}
