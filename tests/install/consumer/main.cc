// A separate project using the installed library through its public headers only.
#include <iostream>

#include <leadenrich/identity.h>
#include <leadenrich/lead.h>
#include <leadenrich/version.h>

int main() {
  leadenrich::Result<leadenrich::RawLead> lead =
      leadenrich::parse_raw_lead(R"({"lead_id": "1", "email": "jane@Acme.com"})");
  if (!lead.ok()) return 1;
  std::cout << "leadenrich " << leadenrich::kVersion << ": "
            << leadenrich::company_identity(*lead).domain.value_or("none") << "\n";
  return 0;
}
