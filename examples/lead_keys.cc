// Reads leads (JSON lines) and prints each lead's company and person keys, or why it has none:
// the planning step that decides what is looked up once and shared.
//   lead_keys [FILE]   (reads stdin without FILE)
#include <fstream>
#include <iostream>
#include <string>

#include <leadenrich/identity.h>
#include <leadenrich/lead.h>

int main(int argc, char** argv) {
  using namespace leadenrich;
  std::ifstream file;
  if (argc > 1) {
    file.open(argv[1]);
    if (!file) {
      std::cerr << "lead_keys: cannot open " << argv[1] << "\n";
      return 2;
    }
  }
  std::istream& in = argc > 1 ? file : std::cin;
  std::string line;
  int line_no = 0, bad = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    Result<RawLead> lead = parse_raw_lead(line);
    if (!lead.ok()) {
      std::cerr << (argc > 1 ? argv[1] : "-") << ":" << line_no << ": " << lead.status().message() << "\n";
      ++bad;
      continue;
    }
    CompanyIdentity company = company_identity(*lead);
    std::string person = "-";
    if (lead->linkedin_url) person = normalize_linkedin_profile(*lead->linkedin_url).value_or("-");
    std::cout << lead->lead_id << "\t" << company.domain.value_or("-") << "\t"
              << (company.domain ? company.source : company.reason) << "\t" << person << "\n";
  }
  return bad == 0 ? 0 : 1;
}
