// Reads a raw lead, finds who it is about, and writes the outreach-ready JSON shape.
#include <iostream>

#include <leadenrich/identity.h>
#include <leadenrich/lead.h>

int main() {
  using namespace leadenrich;
  Result<RawLead> lead = parse_raw_lead(
      R"({"lead_id": "l-1", "email": "Jane@Acme.com", "linkedin_url": "linkedin.com/in/Jane-Doe/"})");
  if (!lead.ok()) {
    std::cerr << lead.status().to_string() << "\n";
    return 1;
  }
  EnrichedLead out;
  out.lead = *lead;
  out.company_key = company_identity(*lead).domain;                        // "acme.com"
  out.person_key = normalize_linkedin_profile(*lead->linkedin_url).value_or("");
  std::cout << to_json(out).dump() << "\n";
}
