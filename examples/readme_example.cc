// Enriches one lead against the built-in sandbox and prints each signal's status.
#include <iostream>

#include <leadenrich/engine.h>
#include <leadenrich/pipe0.h>
#include <leadenrich/testing/sandbox.h>

int main() {
  using namespace leadenrich;
  auto sandbox = Sandbox::start().value();  // real APIs: Config config = load_config().value();
  Config config = sandbox->config();
  auto pipe0 = make_pipe0_connection(pipe0_options(config), make_curl_transport()).value();
  Enricher enricher(config, pipe0);
  RawLead jane;
  jane.lead_id = "l-1";
  jane.email = "jane@acme.com";
  jane.linkedin_url = "linkedin.com/in/jane-doe";
  EnrichedLead lead = enricher.enrich_one(jane).value();
  for (Signal s : kAllSignals) std::cout << to_string(s) << ": " << to_string(lead.result(s).status) << "\n";
  std::cout << "company " << *lead.company_key << ", quality score " << lead.quality_score << "\n";
}
