// pipe0 run objects, problem bodies and capacity headers on arbitrary bytes.
#include <cstdint>
#include <string>

#include "internal/pipe0_wire.h"
#include "leadenrich/pipe0.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  leadenrich::ignore_error(leadenrich::parse_pipe0_run(text), "fuzzing looks for crashes, not answers");
  leadenrich::HttpResponse resp{size > 0 ? 400 + data[0] % 200 : 500, {}, text};
  resp.headers.add("Retry-After", text.substr(0, 32));
  resp.headers.add("X-P1-Capacity", text.substr(0, 12));
  leadenrich::ignore_error(leadenrich::pipe0_error_status(resp, leadenrich::Timestamp{}),
                           "fuzzing looks for crashes, not answers");
  (void)leadenrich::parse_pipe0_capacity(resp.headers);
  (void)leadenrich::run_id_from_detail(text);
  return 0;
}
