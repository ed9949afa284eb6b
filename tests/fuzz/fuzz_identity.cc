// Company and person identity on arbitrary text: a key or an error; a key normalises to itself.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "leadenrich/identity.h"
#include "leadenrich/signals.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto d = leadenrich::normalize_domain(text); d.ok()) {
    if (leadenrich::normalize_domain(*d).value_or("") != *d) std::abort();
    (void)leadenrich::registrable_domain(*d);
    (void)leadenrich::is_free_mail_domain(*d);
  }
  leadenrich::ignore_error(leadenrich::email_domain(text), "fuzzing looks for crashes, not answers");
  if (auto p = leadenrich::normalize_linkedin_profile(text); p.ok()) {
    if (leadenrich::normalize_linkedin_profile(*p).value_or("") != *p) std::abort();
  }
  (void)leadenrich::parse_number_range(leadenrich::Json(std::string(text)));
  leadenrich::ignore_error(leadenrich::parse_timestamp(text), "fuzzing looks for crashes, not answers");
  return 0;
}
