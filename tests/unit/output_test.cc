#include "leadenrich/output.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <doctest/doctest.h>

using namespace leadenrich;

namespace {

EnrichedLead lead(const std::string& id) {
  EnrichedLead e;
  e.lead.lead_id = id;
  e.lead.name = "Jane \"JD\" Doe, PhD";
  e.company_key = "acme.com";
  e.tech_stack = TechStack{{{"React", std::nullopt}, {"Go", "Languages"}}};
  e.result(Signal::kTechStack).status = SignalStatus::kFound;
  e.result(Signal::kNews) = SignalResult{SignalStatus::kFailed, Reason{"provider_error", "pipe0 answered 503"}, "", {}, false};
  e.funding = Funding{Json(), 5e6, {FundingRound{"2024-01-01", "Seed", Json("5M"), 5e6, {"YC"}}}};
  e.result(Signal::kFunding).status = SignalStatus::kFound;
  update_signal_lists(e);
  return e;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("JSON output is an array that parses back to the same leads") {
  std::ostringstream out;
  auto w = make_writer(OutputFormat::kJson, out);
  REQUIRE(w->write(lead("1")).ok());
  REQUIRE(w->write(lead("2")).ok());
  REQUIRE(w->finish().ok());
  Json doc = Json::parse(out.str()).value();
  REQUIRE(doc.as_array().size() == 2);
  CHECK(enriched_lead_from_json(doc.as_array()[1]).value() == lead("2"));

  std::ostringstream empty;
  REQUIRE(make_writer(OutputFormat::kJson, empty)->finish().ok());
  CHECK(empty.str() == "[]\n");
}

TEST_CASE("JSON lines output is one lead per line") {
  std::ostringstream out;
  auto w = make_writer(OutputFormat::kJsonl, out);
  REQUIRE(w->write(lead("1")).ok());
  REQUIRE(w->write(lead("2")).ok());
  std::istringstream lines(out.str());
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    CHECK(parse_enriched_lead(line).ok());
    ++n;
  }
  CHECK(n == 2);
}

TEST_CASE("CSV has the fixed columns, RFC 4180 quoting and joined lists") {
  std::ostringstream out;
  auto w = make_writer(OutputFormat::kCsv, out);
  REQUIRE(w->write(lead("1")).ok());
  REQUIRE(w->finish().ok());
  std::string text = out.str();
  std::string header = text.substr(0, text.find("\r\n"));
  CHECK(header.rfind("lead_id,name,email,phone,organization,designation,linkedin_url,website,", 0) == 0);
  std::vector<std::string> cells = csv_cells(lead("1"));
  REQUIRE(cells.size() == csv_columns().size());
  auto col = [&](std::string_view name) {
    for (std::size_t i = 0; i < csv_columns().size(); ++i) {
      if (csv_columns()[i] == name) return cells[i];
    }
    return std::string("<no column>");
  };
  CHECK(col("technologies") == "React; Go");
  CHECK(col("news_status") == "failed");
  CHECK(col("reasons") == "news: pipe0 answered 503");
  CHECK(col("signals_found") == "tech_stack; funding");
  CHECK(col("funding_total_usd") == "5000000");
  CHECK(Json::parse(col("funding_rounds")).value().as_array().size() == 1);
  CHECK(text.find("\"Jane \"\"JD\"\" Doe, PhD\"") != std::string::npos);

  std::ostringstream empty;
  REQUIRE(make_writer(OutputFormat::kCsv, empty)->finish().ok());
  CHECK(empty.str() == header + "\r\n");
}

TEST_CASE("an atomic file appears under its name only when committed") {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / "leadenrich_output_test";
  std::filesystem::remove_all(dir);
  std::string path = (dir / "sub" / "out.json").string();
  {
    auto f = AtomicFile::create(path);
    REQUIRE(f.ok());
    (*f)->stream() << "partial";
    CHECK_FALSE(std::filesystem::exists(path));
  }  // destroyed without commit: nothing under the final name, no temp left behind
  CHECK_FALSE(std::filesystem::exists(path));
  CHECK(std::filesystem::is_empty(dir / "sub"));
  {
    auto f = AtomicFile::create(path);
    REQUIRE(f.ok());
    (*f)->stream() << "complete";
    REQUIRE((*f)->commit().ok());
  }
  CHECK(slurp(path) == "complete");
  std::filesystem::remove_all(dir);
}
