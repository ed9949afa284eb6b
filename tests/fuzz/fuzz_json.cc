// Json::parse on arbitrary bytes: never crashes; what it accepts dumps to text that parses back
// to the same value.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "leadenrich/json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  leadenrich::Result<leadenrich::Json> j = leadenrich::Json::parse(text);
  if (!j.ok()) return 0;
  std::string dumped = j->dump();
  leadenrich::Result<leadenrich::Json> again = leadenrich::Json::parse(dumped);
  if (!again.ok() || again->dump() != dumped) std::abort();
  return 0;
}
