#include "signals/signal_codec.h"
#include "leadenrich/lead.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

using namespace leadenrich;
using namespace std::chrono_literals;

namespace {

const char* kAturiyaLead = R"({
  "lead_id": "lead_001", "agent_id": "agent_0123456789abcdef0123456789abcdef", "campaign_id": "cmp_1",
  "task_id": "task_9", "task_status": "approved", "campaign_name": "Q4 Fintech", "name": "Jane Doe",
  "email": "Jane.Doe@Acme.com", "phone": "+1 555 0100", "organization": "Acme", "designation": "VP Sales",
  "linkedin_url": "https://www.linkedin.com/in/jane-doe", "website": "https://www.acme.com/about",
  "status": "approved", "type": "new", "created_at": "2026-11-01T10:00:00Z",
  "apollo_score": 87, "tags": ["hot", {"k": 1}]
})";

EnrichedLead sample_enriched() {
  EnrichedLead e;
  e.lead = parse_raw_lead(kAturiyaLead).value();
  e.company_key = "acme.com";
  e.person_key = "https://www.linkedin.com/in/jane-doe";
  Timestamp t = parse_timestamp("2026-11-25T01:00:00Z").value();
  e.company_overview = CompanyOverview{"Acme builds rockets", "Aerospace", "US", Json("201-500"),
                                       NumberRange{201, 500}, Json(12000000), NumberRange{12e6, 12e6},
                                       Json("2015"), 2015};
  e.tech_stack = TechStack{{{"React", std::nullopt}, {"Stripe", "Payments"}}};
  e.funding = Funding{Json("$25M"), 25e6, {FundingRound{"2021-03-01", "Series A", Json(20000000), 2e7, {"Sequoia"}}}};
  e.news = News{"## Acme\n- launched \"Rocket\""};
  e.linkedin_posts = LinkedInPosts{{LinkedInPost{"Hiring!", "2026-11-01", "https://x/1", 12}}};
  for (Signal s : {Signal::kCompanyOverview, Signal::kTechStack, Signal::kFunding, Signal::kNews, Signal::kLinkedInPosts}) {
    e.result(s) = SignalResult{SignalStatus::kFound, std::nullopt, std::string(find_spec(default_signal_specs(), s).pipe_id), t, false};
  }
  e.result(Signal::kFunding).from_cache = true;
  e.result(Signal::kLinkedInPosts) = SignalResult{SignalStatus::kSkipped, Reason{"missing_input", "no profile URL"}, "", std::nullopt, false};
  e.linkedin_posts.reset();
  update_signal_lists(e);
  e.quality_score = 80;
  e.enriched_at = parse_timestamp("2026-11-25T02:00:00.125Z").value();
  e.provider_run_ids = {"run_1"};
  e.billed_lookups = 4;
  e.estimated_credits = 5.5;
  return e;
}

}  // namespace

TEST_CASE("a raw Aturiya lead keeps all 16 fields and unknown keys, and writes them back unchanged") {
  Result<RawLead> lead = parse_raw_lead(kAturiyaLead);
  REQUIRE(lead.ok());
  CHECK(lead->lead_id == "lead_001");
  CHECK(lead->email == "Jane.Doe@Acme.com");
  CHECK(lead->created_at == "2026-11-01T10:00:00Z");
  REQUIRE(lead->extra.size() == 2);
  CHECK(lead->extra[0].first == "apollo_score");
  Json out = to_json(*lead);
  CHECK(out.as_object().size() == 18);
  CHECK(out.as_object()[0].first == "lead_id");
  CHECK(out.as_object()[15].first == "created_at");
  CHECK(out.find("tags")->dump() == R"(["hot",{"k":1}])");
  CHECK(raw_lead_from_json(out).value() == *lead);
  CHECK(raw_lead_field_names().size() == 16);
}

TEST_CASE("a raw lead is lenient about scalar types and strict about what it cannot keep") {
  Result<RawLead> numeric = parse_raw_lead(R"({"lead_id": 42, "phone": 5550100, "website": null, "type": true})");
  REQUIRE(numeric.ok());
  CHECK(numeric->lead_id == "42");
  CHECK(numeric->phone == "5550100");
  CHECK_FALSE(numeric->website.has_value());
  CHECK(numeric->type == "true");

  Result<RawLead> no_id = parse_raw_lead(R"({"name": "x"})");
  CHECK(no_id.status().message() == "lead.lead_id: missing or empty");
  CHECK_FALSE(parse_raw_lead(R"({"lead_id": "  "})").ok());
  Result<RawLead> object_field = parse_raw_lead(R"({"lead_id": "1", "website": {"url": "x"}})");
  CHECK(object_field.status().message() == "lead.website: expected a string, got object");
  CHECK(parse_raw_lead("[1]").status().message() == "lead: expected a JSON object, got array");
  CHECK(parse_raw_lead("{\"lead_id\": \"1\"").status().code() == StatusCode::kDataLoss);
}

TEST_CASE("an enriched lead round-trips through JSON exactly") {
  EnrichedLead e = sample_enriched();
  std::string text = to_json(e).dump();
  Result<EnrichedLead> back = parse_enriched_lead(text);
  REQUIRE(back.ok());
  CHECK(*back == e);
  CHECK(to_json(*back).dump() == text);
}

TEST_CASE("enriched JSON has a stable, documented key order") {
  Json j = to_json(sample_enriched());
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.as_object()) keys.push_back(k);
  CHECK(keys == std::vector<std::string>{"lead", "company_key", "person_key", "signals", "signals_found",
                                         "signals_missed", "quality_score", "enriched_at", "provider_run_ids",
                                         "billed_lookups", "estimated_credits", "sandbox"});
  const Json* signals = j.find("signals");
  REQUIRE(signals != nullptr);
  CHECK(signals->as_object()[0].first == "company_overview");
  CHECK(signals->find("linkedin_posts")->find("status")->as_string() == "skipped");
  CHECK(signals->find("linkedin_posts")->find("reason")->find("code")->as_string() == "missing_input");
  CHECK(signals->find("funding")->find("from_cache")->as_bool());
  CHECK(j.find("signals_found")->dump() == R"(["company_overview","tech_stack","funding","news"])");
  CHECK(j.find("signals_missed")->dump() == R"(["linkedin_posts"])");
  CHECK(j.find("enriched_at")->as_string() == "2026-11-25T02:00:00.125Z");
}

TEST_CASE("reading enriched JSON names the path of a bad value") {
  Json j = to_json(sample_enriched());
  std::string text = j.dump();
  std::string bad_status = text;
  bad_status.replace(bad_status.find("\"found\""), 7, "\"great\"");
  CHECK(parse_enriched_lead(bad_status).status().message() ==
        "$.signals.company_overview.status: unknown signal status 'great'");
  CHECK(parse_enriched_lead(R"({"signals": {}})").status().message() == "$.lead: missing");
  Result<EnrichedLead> bad_score = parse_enriched_lead(R"({"lead": {"lead_id": "1"}, "quality_score": "high"})");
  CHECK(bad_score.status().message() == "$.quality_score: expected a number, got string");
  // Deep in a list, and for a value read on its own (as the store reads it back).
  auto signal = [](const char* name, const char* value) {
    return fmt::format(R"({{"lead": {{"lead_id": "1"}}, "signals": {{"{}": {{"status": "found", "value": {}}}}}}})", name, value);
  };
  CHECK(parse_enriched_lead(signal("funding", R"({"rounds": [{}, {"investors": ["a", ["b"]]}]})")).status().message() ==
        "$.signals.funding.value.rounds[1].investors[1]: expected a string, got array");
  CHECK(parse_enriched_lead(signal("tech_stack", R"({"technologies": [{"name": "Go"}, 5]})")).status().message() ==
        "$.signals.tech_stack.value.technologies[1]: expected an object, got number");
  CHECK(parse_enriched_lead(signal("company_overview", R"({"headcount_range": {"min": "x"}})")).status().message() ==
        "$.signals.company_overview.value.headcount_range.min: expected a number, got string");
  CHECK(parse_enriched_lead(R"({"lead": {"lead_id": "1"}, "signals_found": ["news", 3]})").status().message() ==
        "$.signals_found[1]: expected a signal name");
  EnrichedLead e;
  CHECK(set_signal_value_from_json(e, Signal::kLinkedInPosts, Json::parse(R"({"posts": [{"text": {}}]})").value()).message() ==
        "$.linkedin_posts.posts[0].text: expected a string, got object");
}

TEST_CASE("signals_found and signals_missed name signals and leave disabled ones out") {
  EnrichedLead e;
  e.result(Signal::kNews).status = SignalStatus::kFound;
  e.result(Signal::kFunding).status = SignalStatus::kNoResult;
  e.result(Signal::kTechStack).status = SignalStatus::kBudgetExhausted;
  update_signal_lists(e);
  CHECK(e.signals_found == std::vector<Signal>{Signal::kNews});
  CHECK(e.signals_missed == std::vector<Signal>{Signal::kTechStack, Signal::kFunding});
}

TEST_CASE("quality score weighs found signals and their freshness") {
  const auto& specs = default_signal_specs();
  Timestamp now = parse_timestamp("2026-11-25T00:00:00Z").value();
  EnrichedLead e;
  CHECK(compute_quality_score(e, specs, now) == 0);
  for (Signal s : kAllSignals) e.result(s) = SignalResult{SignalStatus::kFound, {}, "", now, false};
  CHECK(compute_quality_score(e, specs, now) == 100);
  e.result(Signal::kLinkedInPosts).status = SignalStatus::kSkipped;
  CHECK(compute_quality_score(e, specs, now) == 80);
  // News (weight 20, 1-day window) fetched 18 hours ago: factor 0.75 -> loses 5 points.
  e.result(Signal::kNews).fetched_at = now - 18h;
  CHECK(compute_quality_score(e, specs, now) == 75);
  // Older than its window: half weight.
  e.result(Signal::kNews).fetched_at = now - 72h;
  CHECK(compute_quality_score(e, specs, now) == 70);
}

TEST_CASE("one signal's value round-trips on its own, for caching") {
  EnrichedLead e = sample_enriched();
  for (Signal s : kAllSignals) {
    Json v = signal_value_to_json(e, s);
    EnrichedLead copy;
    REQUIRE(set_signal_value_from_json(copy, s, v).ok());
    CHECK(signal_value_to_json(copy, s) == v);
  }
  EnrichedLead copy;
  Status bad = set_signal_value_from_json(copy, Signal::kTechStack, Json::parse(R"({"technologies": 3})").value());
  CHECK(bad.message() == "$.tech_stack.technologies: expected an array, got number");
}

TEST_CASE("parse_raw_lead reads a row exactly as raw_lead_from_json reads its parsed tree, errors included") {
  const char* rows[] = {
      R"({"lead_id": "l1", "name": "Jane", "email": "jane@acme.com", "custom": {"a": [1, 2]}, "score": 7})",
      R"({"lead_id": 42, "phone": 5550100, "website": null, "type": true, "extra_b": "x", "extra_a": null})",
      R"({"name": "no id"})",
      R"({"lead_id": "  "})",
      R"({"lead_id": "l2", "email": ["not", "text"]})",
      R"({"lead_id": "l3", "name": {"first": "Jane"}})",
      R"({"lead_id": "l4", "name": "first", "name": "second", "x": 1, "x": 2})",
      R"(["an", "array"])",
      R"("a string")",
      R"(12)",
      R"({"lead_id": "l5", "name": "cut sh)",
      R"({"lead_id": "l6",,})",
      R"(   )",
  };
  for (const char* row : rows) {
    CAPTURE(row);
    Result<RawLead> direct = parse_raw_lead(row);
    Result<Json> tree = Json::parse(row);
    Result<RawLead> via_tree = tree.ok() ? raw_lead_from_json(*tree) : Result<RawLead>(tree.status());
    REQUIRE(direct.ok() == via_tree.ok());
    if (direct.ok()) {
      CHECK(*direct == *via_tree);
    } else {
      CHECK(direct.status().code() == via_tree.status().code());
      CHECK(direct.status().message() == via_tree.status().message());
    }
  }
}
