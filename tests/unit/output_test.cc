#include "signals/signal_codec.h"
#include "internal/csv_write.h"
#include "leadenrich/output.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
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


// ---- Leads of every shape, for holding the streaming writers to the tree's bytes ----

// Text that needs every kind of care: quotes, backslashes, control characters, DEL, CSV
// separators, edge spaces, multi-byte UTF-8, an emoji, invalid UTF-8, or nothing at all.
std::string varied_text(std::mt19937& rng) {
  static const std::vector<std::string> kPieces = {
      "plain", "", " edge ", "a,b", "say \"hi\"", "back\\slash", "line\nbreak", "cr\rlf\r\n", "tab\there",
      std::string("nul\0byte", 8), "\x01\x1f\x7f", "Zürich", "東京", "\xF0\x9F\x9A\x80 rocket", "bad\xC3(utf8",
      "\xE2\x80\x93 en dash", "/slash/", "</script>", "\u2028sep"};
  std::string out;
  int n = static_cast<int>(rng() % 3);
  for (int i = 0; i <= n; ++i) out += kPieces[rng() % kPieces.size()];
  return out;
}

std::optional<std::string> maybe_text(std::mt19937& rng) {
  if (rng() % 3 == 0) return std::nullopt;
  return varied_text(rng);
}

double varied_number(std::mt19937& rng) {
  static const std::vector<double> kNumbers = {0.0, -0.0, 1.0, 250.0, 12e6, 2.5e9, 0.1, -3.75, 1e21, 1e-7,
                                               123456789012345.0, std::numeric_limits<double>::infinity(),
                                               std::numeric_limits<double>::quiet_NaN()};
  return kNumbers[rng() % kNumbers.size()];
}

std::optional<double> maybe_number(std::mt19937& rng) {
  if (rng() % 3 == 0) return std::nullopt;
  return varied_number(rng);
}

// A provider value as it may come: null, a string, a number, or nested JSON.
Json varied_json(std::mt19937& rng) {
  switch (rng() % 6) {
    case 0: return Json();
    case 1: return Json(varied_text(rng));
    case 2: return Json(varied_number(rng));
    case 3: return Json(static_cast<std::int64_t>(rng()) - 1'000'000'000);
    case 4: return Json::parse(R"({"a":[1,2.5,"x\u00e9",null,true],"b":{"c":"\"q\""}})").value();
    default: return Json(Json::Array{Json(varied_text(rng)), Json(false)});
  }
}

std::optional<Timestamp> maybe_time(std::mt19937& rng) {
  if (rng() % 3 == 0) return std::nullopt;
  return Timestamp(std::chrono::milliseconds(1'700'000'000'000LL + static_cast<long long>(rng() % 100'000'000)));
}

EnrichedLead varied_lead(std::mt19937& rng) {
  EnrichedLead e;
  e.lead.lead_id = varied_text(rng);
  for (std::optional<std::string>* f : {&e.lead.agent_id, &e.lead.campaign_id, &e.lead.task_id, &e.lead.task_status,
                                         &e.lead.campaign_name, &e.lead.name, &e.lead.email, &e.lead.phone,
                                         &e.lead.organization, &e.lead.designation, &e.lead.linkedin_url,
                                         &e.lead.website, &e.lead.status, &e.lead.type, &e.lead.created_at}) {
    *f = maybe_text(rng);
  }
  for (int i = static_cast<int>(rng() % 3); i > 0; --i) e.lead.extra.emplace_back(varied_text(rng), varied_json(rng));
  e.company_key = maybe_text(rng);
  e.person_key = maybe_text(rng);
  if (rng() % 4 != 0) {
    std::optional<NumberRange> range;
    if (rng() % 2) range = NumberRange{varied_number(rng), maybe_number(rng)};
    std::optional<int> year;
    if (rng() % 2) year = 1900 + static_cast<int>(rng() % 130);
    e.company_overview = CompanyOverview{maybe_text(rng), maybe_text(rng), maybe_text(rng), varied_json(rng), range,
                                         varied_json(rng), range, varied_json(rng), year};
  }
  if (rng() % 4 != 0) {
    TechStack t;
    for (int i = static_cast<int>(rng() % 4); i > 0; --i) t.technologies.push_back({varied_text(rng), maybe_text(rng)});
    e.tech_stack = t;
  }
  if (rng() % 4 != 0) {
    Funding f{varied_json(rng), maybe_number(rng), {}};
    for (int i = static_cast<int>(rng() % 3); i > 0; --i) {
      FundingRound r{maybe_text(rng), maybe_text(rng), varied_json(rng), maybe_number(rng), {}};
      for (int j = static_cast<int>(rng() % 3); j > 0; --j) r.investors.push_back(varied_text(rng));
      f.rounds.push_back(r);
    }
    e.funding = f;
  }
  if (rng() % 4 != 0) e.news = News{varied_text(rng)};
  if (rng() % 4 != 0) {
    LinkedInPosts p;
    for (int i = static_cast<int>(rng() % 3); i > 0; --i) {
      std::optional<std::int64_t> reactions;
      if (rng() % 2) reactions = static_cast<std::int64_t>(rng() % 100000) - 5;
      p.posts.push_back({varied_text(rng), maybe_text(rng), maybe_text(rng), reactions});
    }
    e.linkedin_posts = p;
  }
  for (Signal s : kAllSignals) {
    SignalResult& r = e.result(s);
    r.status = static_cast<SignalStatus>(rng() % 6);
    if (rng() % 2) r.reason = Reason{varied_text(rng), varied_text(rng)};
    r.source = varied_text(rng);
    r.fetched_at = maybe_time(rng);
    r.from_cache = rng() % 2 == 0;
  }
  update_signal_lists(e);
  e.quality_score = static_cast<int>(rng() % 101);
  e.enriched_at = maybe_time(rng);
  for (int i = static_cast<int>(rng() % 3); i > 0; --i) e.provider_run_ids.push_back(varied_text(rng));
  e.billed_lookups = static_cast<int>(rng() % 6);
  e.estimated_credits = varied_number(rng);
  e.sandbox = rng() % 2 == 0;
  return e;
}

// The CSV row as the writer made it before it streamed: cells from the Json tree, joined by
// append_csv_record.
std::string tree_csv_row(const EnrichedLead& e) {
  auto opt = [](const std::optional<std::string>& s) { return s.value_or(""); };
  auto cell_of = [](const Json& v) -> std::string {
    switch (v.type()) {
      case Json::Type::kNull: return "";
      case Json::Type::kString: return v.as_string();
      case Json::Type::kNumber: return v.number_text();
      default: return v.dump();
    }
  };
  auto number_cell = [](const std::optional<double>& d) { return d ? Json(*d).dump() : std::string(); };
  auto join = [](const std::vector<std::string>& items) {
    std::string out;
    for (const std::string& s : items) out += (out.empty() ? "" : "; ") + s;
    return out;
  };
  auto names = [&](const std::vector<Signal>& signals) {
    std::vector<std::string> n;
    for (Signal s : signals) n.emplace_back(to_string(s));
    return join(n);
  };
  const RawLead& l = e.lead;
  std::vector<std::string> c = {l.lead_id, opt(l.name), opt(l.email), opt(l.phone), opt(l.organization),
                                opt(l.designation), opt(l.linkedin_url), opt(l.website), opt(l.campaign_id),
                                opt(l.campaign_name), opt(e.company_key), opt(e.person_key),
                                std::to_string(e.quality_score), names(e.signals_found), names(e.signals_missed),
                                e.enriched_at ? format_timestamp(*e.enriched_at) : "", e.sandbox ? "true" : "false"};
  std::vector<std::string> reasons;
  for (Signal s : kAllSignals) {
    c.emplace_back(to_string(e.result(s).status));
    if (e.result(s).reason) reasons.push_back(std::string(to_string(s)) + ": " + e.result(s).reason->message);
  }
  c.push_back(join(reasons));
  if (const auto& o = e.company_overview) {
    c.insert(c.end(), {opt(o->description), opt(o->industry), opt(o->region), cell_of(o->headcount),
                       o->headcount_range ? Json(o->headcount_range->min).dump() : "",
                       o->headcount_range ? number_cell(o->headcount_range->max) : "",
                       o->founded_year_number ? std::to_string(*o->founded_year_number) : cell_of(o->founded_year),
                       cell_of(o->estimated_revenue)});
  } else {
    c.insert(c.end(), 8, "");
  }
  std::vector<std::string> tech;
  if (e.tech_stack) {
    for (const Technology& t : e.tech_stack->technologies) tech.push_back(t.name);
  }
  c.push_back(join(tech));
  if (e.funding) {
    c.push_back(number_cell(e.funding->total_usd));
    c.push_back(signal_value_to_json(e, Signal::kFunding).find("rounds")->dump());
  } else {
    c.insert(c.end(), 2, "");
  }
  c.push_back(e.news ? e.news->summary : "");
  std::vector<std::string> posts;
  std::string latest;
  if (e.linkedin_posts) {
    for (const LinkedInPost& p : e.linkedin_posts->posts) {
      posts.push_back(p.text);
      if (p.posted_at && *p.posted_at > latest) latest = *p.posted_at;
    }
  }
  c.push_back(join(posts));
  c.push_back(latest);
  std::string row;
  append_csv_record(row, c);
  return row;
}

std::string write_all(OutputFormat format, const std::vector<EnrichedLead>& leads) {
  std::ostringstream out;
  auto w = make_writer(format, out);
  for (const EnrichedLead& e : leads) REQUIRE(w->write(e).ok());
  REQUIRE(w->finish().ok());
  return out.str();
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
  CHECK(out.str().empty());  // gathered, not yet handed over
  REQUIRE(w->flush().ok());
  std::istringstream lines(out.str());
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    CHECK(parse_enriched_lead(line).ok());
    ++n;
  }
  CHECK(n == 2);
}

TEST_CASE("written leads reach the stream in 64 KiB pieces, and all of them by the destructor") {
  for (OutputFormat format : {OutputFormat::kJsonl, OutputFormat::kJson, OutputFormat::kCsv}) {
    CAPTURE(to_string(format));
    std::ostringstream out;
    std::string expected = write_all(format, std::vector<EnrichedLead>(500, lead("1")));
    REQUIRE(expected.size() > 128 * 1024);
    {
      auto w = make_writer(format, out);
      for (int i = 0; i < 500; ++i) REQUIRE(w->write(lead("1")).ok());
      CHECK(out.str().size() >= 64 * 1024);
      CHECK(out.str().size() < expected.size());
    }
    // Destroyed without finish(): every lead written is there (a JSON array stays open).
    std::string text = out.str();
    if (format == OutputFormat::kJson) text += "\n]\n";
    CHECK(text == expected);
  }
}

TEST_CASE("a failed stream is reported by the write that hands text over, or by finish") {
  for (OutputFormat format : {OutputFormat::kJsonl, OutputFormat::kJson, OutputFormat::kCsv}) {
    CAPTURE(to_string(format));
    std::ostringstream out;
    out.setstate(std::ios::badbit);
    auto w = make_writer(format, out);
    Status st;
    for (int i = 0; i < 400 && st.ok(); ++i) st = w->write(lead("1"));
    CHECK(st.code() == StatusCode::kUnavailable);
    CHECK(w->finish().code() == StatusCode::kUnavailable);
  }
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

TEST_CASE("the streaming writers write byte for byte what the Json tree of each lead dumps") {
  std::mt19937 rng(20261202);
  std::vector<EnrichedLead> leads;
  leads.push_back(lead("1"));
  leads.emplace_back();  // nothing but defaults: every optional missing, an empty lead id
  for (int i = 0; i < 400; ++i) leads.push_back(varied_lead(rng));

  std::string jsonl, json = "[\n", csv;
  append_csv_record(csv, std::vector<std::string>(csv_columns().begin(), csv_columns().end()));
  for (std::size_t i = 0; i < leads.size(); ++i) {
    std::string dumped = to_json(leads[i]).dump();
    jsonl += dumped + "\n";
    json += (i == 0 ? "" : ",\n") + dumped;
    csv += tree_csv_row(leads[i]);
  }
  json += "\n]\n";
  CHECK(write_all(OutputFormat::kJsonl, leads) == jsonl);
  CHECK(write_all(OutputFormat::kJson, leads) == json);
  CHECK(write_all(OutputFormat::kCsv, leads) == csv);
  // Lead by lead too, so a difference names the lead that shows it.
  for (std::size_t i = 0; i < leads.size(); ++i) {
    CAPTURE(i);
    CHECK(write_all(OutputFormat::kJsonl, {leads[i]}) == to_json(leads[i]).dump() + "\n");
    std::vector<std::string> cells = csv_cells(leads[i]);
    std::string row;
    append_csv_record(row, cells);
    std::string want = tree_csv_row(leads[i]);
    std::size_t at = std::mismatch(row.begin(), row.end(), want.begin(), want.end()).first - row.begin();
    CAPTURE(at);
    CAPTURE(Json(row.substr(at > 20 ? at - 20 : 0, 60)).dump());
    CAPTURE(Json(want.substr(at > 20 ? at - 20 : 0, 60)).dump());
    CHECK(row == want);
  }
}

// ---- The original pipeline's shape ----

TEST_CASE("the original shape: overview values as text, names and texts as string lists, news inside funding") {
  EnrichedLead e = lead("o-1");
  e.lead.campaign_id = "cmp_1";
  e.lead.website = "acme.com";
  e.lead.agent_id = "agent_1";
  e.lead.extra.emplace_back("favourite_colour", Json("teal"));
  CompanyOverview o;
  o.description = "Makes things";
  o.headcount = Json(120);
  o.founded_year = Json(2015);
  o.founded_year_number = 2015;
  o.estimated_revenue = Json("$10M-$50M");
  e.company_overview = o;
  e.news = News{"## Acme\n- launched"};
  LinkedInPosts posts;
  for (int i = 0; i < 7; ++i) posts.posts.push_back({"post " + std::to_string(i), std::nullopt, std::nullopt, std::nullopt});
  e.linkedin_posts = posts;
  e.funding->total_usd = 12'499'999.6;
  e.enriched_at = parse_timestamp("2026-01-31T12:00:00.250Z").value();
  e.provider_run_ids = {"run_a", "run_b"};

  Json j = to_original_json(e);
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.as_object()) keys.push_back(k);
  CHECK(keys == std::vector<std::string>{"lead_id", "name", "email", "phone", "organization", "designation", "linkedin_url",
                                         "campaign_id", "campaign_name", "company_overview", "tech_stack", "funding",
                                         "linkedin_posts", "enrichment_metadata"});
  const Json& ov = *j.find("company_overview");
  CHECK(ov.find("headcount")->as_string() == "120");
  CHECK(ov.find("founded_year")->as_string() == "2015");
  CHECK(ov.find("estimated_revenue")->as_string() == "$10M-$50M");
  CHECK(ov.find("region")->is_null());
  CHECK(j.find("tech_stack")->dump() == R"(["React","Go"])");
  const Json& funding = *j.find("funding");
  CHECK(funding.find("total_funding_usd")->dump() == "12500000");
  CHECK(funding.find("funding_history")->as_array().size() == 1);
  CHECK(funding.find("news_summary")->as_string() == "## Acme\n- launched");
  CHECK(j.find("linkedin_posts")->as_array().size() == 5);
  CHECK(j.find("linkedin_posts")->as_array()[4].as_string() == "post 4");
  const Json& meta = *j.find("enrichment_metadata");
  CHECK(meta.find("enriched_at")->as_string() == "2026-01-31T12:00:00.250000");
  CHECK(meta.find("signals_found")->dump() == R"(["tech_stack","funding"])");
  CHECK(meta.find("signals_missed")->dump() == R"(["news"])");
  CHECK(meta.find("pipe0_run_id")->as_string() == "run_a");
  for (const char* absent : {"website", "agent_id", "favourite_colour", "signals", "quality_score"}) {
    CHECK_MESSAGE(j.find(absent) == nullptr, absent);
  }
}

TEST_CASE("the original shape of a lead with nothing found still has its metadata") {
  EnrichedLead e;
  e.lead.lead_id = "bare";
  Json j = to_original_json(e);
  CHECK(j.find("company_overview")->is_null());
  CHECK(j.find("tech_stack")->is_null());
  CHECK(j.find("funding")->is_null());
  CHECK(j.find("linkedin_posts")->is_null());
  const Json& meta = *j.find("enrichment_metadata");
  CHECK(meta.find("enriched_at")->is_string());
  CHECK(meta.find("signals_found")->as_array().empty());
  CHECK(meta.find("pipe0_run_id")->is_null());
  // News alone still makes a funding object: the original carried the summary there.
  e.news = News{"quiet"};
  Json with_news = to_original_json(e);
  const Json& funding = *with_news.find("funding");
  CHECK(funding.find("total_funding_usd")->is_null());
  CHECK(funding.find("news_summary")->as_string() == "quiet");
}

TEST_CASE("original-shape writers: JSON array, JSON lines and CSV say the same as to_original_json") {
  EnrichedLead a = lead("o-1");
  a.enriched_at = parse_timestamp("2026-01-31T12:00:00Z").value();
  EnrichedLead b = lead("o-2");
  b.enriched_at = a.enriched_at;
  for (OutputFormat f : {OutputFormat::kJson, OutputFormat::kJsonl}) {
    std::ostringstream out;
    auto w = make_writer(f, out, OutputShape::kOriginal);
    REQUIRE(w->write(a).ok());
    REQUIRE(w->write(b).ok());
    REQUIRE(w->finish().ok());
    std::string text = out.str();
    if (f == OutputFormat::kJson) {
      Json parsed = Json::parse(text).value();
      REQUIRE(parsed.as_array().size() == 2);
      CHECK(parsed.as_array()[1].dump() == to_original_json(b).dump());
    } else {
      CHECK(text == to_original_json(a).dump() + "\n" + to_original_json(b).dump() + "\n");
    }
  }
  std::ostringstream csv;
  auto w = make_writer(OutputFormat::kCsv, csv, OutputShape::kOriginal);
  REQUIRE(w->write(a).ok());
  REQUIRE(w->finish().ok());
  std::string header;
  for (std::string_view c : original_csv_columns()) header += (header.empty() ? "" : ",") + std::string(c);
  std::vector<std::string> cells = original_csv_cells(a);
  REQUIRE(cells.size() == original_csv_columns().size());
  CHECK(cells[0] == "o-1");
  CHECK(cells[15] == "React; Go");         // tech_stack
  CHECK(cells[16] == "5000000");           // total_funding_usd
  CHECK(cells[20] == "2026-01-31T12:00:00.000000");
  std::string row;
  append_csv_record(row, cells);
  CHECK(csv.str() == header + "\r\n" + row);
  // An empty run still writes the header, and an empty JSON array.
  std::ostringstream empty_csv, empty_json;
  REQUIRE(make_writer(OutputFormat::kCsv, empty_csv, OutputShape::kOriginal)->finish().ok());
  CHECK(empty_csv.str() == header + "\r\n");
  REQUIRE(make_writer(OutputFormat::kJson, empty_json, OutputShape::kOriginal)->finish().ok());
  CHECK(empty_json.str() == "[]\n");
}
