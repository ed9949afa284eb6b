#include "signals/signal_codec.h"
#include "internal/flat_hash.h"
#include "internal/merge.h"
#include "internal/plan.h"

#include <map>
#include <random>

#include <doctest/doctest.h>

using namespace leadenrich;
using namespace leadenrich::internal;

namespace {

const std::vector<Signal> kAll(kAllSignals.begin(), kAllSignals.end());
const std::vector<SignalSpec>& specs() { return default_signal_specs(); }
const SignalSpec& spec(Signal s) { return find_spec(specs(), s); }

RawLead lead(std::string id, std::optional<std::string> email, std::optional<std::string> website,
             std::optional<std::string> linkedin) {
  RawLead l;
  l.lead_id = std::move(id);
  l.email = std::move(email);
  l.website = std::move(website);
  l.linkedin_url = std::move(linkedin);
  l.organization = "Acme";
  return l;
}

std::size_t idx(Signal s) { return static_cast<std::size_t>(s); }

Timestamp now() { return parse_timestamp("2026-11-25T00:00:00Z").value(); }

}  // namespace

TEST_CASE("two spellings of one company and one person plan to the same entities") {
  LeadPlan a = plan_lead(lead("1", "jane@acme.com", "https://www.Acme.com/x", "linkedin.com/in/Jane"), kAll, specs());
  LeadPlan b = plan_lead(lead("2", "JANE@eu.acme.com", std::nullopt, "https://www.linkedin.com/in/jane/"), kAll, specs());
  for (Signal s : kAllSignals) {
    CAPTURE(to_string(s));
    CHECK_FALSE(a.entity[idx(s)].empty());
    CHECK(a.entity[idx(s)] == b.entity[idx(s)]);
  }
  CHECK(a.entity[idx(Signal::kNews)] == "company:acme.com");
  CHECK(a.entity[idx(Signal::kLinkedInPosts)] == "person:https://www.linkedin.com/in/jane");
}

TEST_CASE("a lead without a LinkedIn URL skips posts locally and keeps its company signals") {
  LeadPlan p = plan_lead(lead("1", "jane@acme.com", std::nullopt, std::nullopt), kAll, specs());
  CHECK(p.entity[idx(Signal::kLinkedInPosts)].empty());
  CHECK(p.local[idx(Signal::kLinkedInPosts)].status == SignalStatus::kSkipped);
  CHECK(p.local[idx(Signal::kLinkedInPosts)].reason->code == "missing_input");
  CHECK(p.local[idx(Signal::kLinkedInPosts)].reason->message == "no LinkedIn profile URL");
  CHECK(p.entity[idx(Signal::kCompanyOverview)] == "company:acme.com");
}

TEST_CASE("a free-mail lead without a website skips company signals, saying why") {
  LeadPlan p = plan_lead(lead("1", "jane@gmail.com", std::nullopt, "linkedin.com/in/jane"), kAll, specs());
  CHECK(p.entity[idx(Signal::kFunding)].empty());
  CHECK(p.local[idx(Signal::kFunding)].reason->message ==
        "no company domain (no website, and the email is at free-mail provider gmail.com)");
  CHECK_FALSE(p.entity[idx(Signal::kLinkedInPosts)].empty());
}

TEST_CASE("a bad LinkedIn URL is named in the skip reason") {
  LeadPlan p = plan_lead(lead("1", "a@acme.com", std::nullopt, "https://www.linkedin.com/company/acme"), kAll, specs());
  CHECK(p.local[idx(Signal::kLinkedInPosts)].reason->message.find("not a person profile") != std::string::npos);
}

TEST_CASE("signals that are not enabled are disabled, not skipped") {
  LeadPlan p = plan_lead(lead("1", "a@acme.com", std::nullopt, std::nullopt), {Signal::kNews}, specs());
  CHECK(p.local[idx(Signal::kCompanyOverview)].status == SignalStatus::kDisabled);
  CHECK(p.local[idx(Signal::kLinkedInPosts)].status == SignalStatus::kDisabled);
  CHECK_FALSE(p.entity[idx(Signal::kNews)].empty());
}

TEST_CASE("entity inputs carry every requested key, null where the lead has none") {
  RawLead l = lead("1", "a@acme.com", std::nullopt, std::nullopt);
  LeadPlan p = plan_lead(l, kAll, specs());
  Json::Object in = entity_inputs(l, p, {"company_website_url", "profile_url"}, SignalLevel::kCompany);
  CHECK(Json(in).dump() == R"({"company_website_url":"https://acme.com","profile_url":null,"company_name":"Acme"})");
}

TEST_CASE("has_input answers as lead_input does, for every input key over blank, missing and present fields") {
  std::vector<std::optional<std::string>> values = {std::nullopt, "", " \t\r\n", "x", " Acme "};
  for (const auto& name : values) {
    for (const auto& email : {std::optional<std::string>(), std::optional<std::string>("jane@acme.com"),
                              std::optional<std::string>("  ")}) {
      for (const auto& website : {std::optional<std::string>(), std::optional<std::string>("acme.com")}) {
        RawLead l = lead("1", email, website, name ? std::optional<std::string>("linkedin.com/in/jane") : std::nullopt);
        l.name = name;
        l.organization = name;
        LeadPlan p = plan_lead(l, kAll, specs());
        for (std::string_view key :
             {"company_website_url", "company_domain", "company_name", "profile_url", "name", "email", "other"}) {
          CAPTURE(key);
          CHECK(has_input(l, p, key) == lead_input(l, p, key).has_value());
        }
      }
    }
  }
}

TEST_CASE("merge: completed fields become a typed value, found and billed") {
  std::vector<ProviderField> fields = {
      {"company_website_url", Json("https://acme.com"), "completed", "", ""},
      {"company_description", Json("Acme builds rockets"), "completed", "", ""},
      {"headcount", Json(250), "completed", "", ""},
      {"founded_year", Json("2015"), "completed", "", ""},
      {"company_region", Json(), "no_result", "", ""},
  };
  LookupOutcome o = merge_signal(spec(Signal::kCompanyOverview), fields, now());
  CHECK(o.result.status == SignalStatus::kFound);
  CHECK(o.billed);
  CHECK(o.result.fetched_at == now());
  CHECK(o.result.source == "company:overview@2");
  EnrichedLead e;
  apply_value(e, Signal::kCompanyOverview, o.value);
  REQUIRE(e.company_overview.has_value());
  CHECK(e.company_overview->headcount_range == NumberRange{250, 250});
  CHECK(e.company_overview->founded_year_number == 2015);
}

TEST_CASE("merge: every field status maps to a signal status with pipe0's reason") {
  const SignalSpec& news = spec(Signal::kNews);
  auto one = [&](std::string status, Json value = Json(), std::string code = "", std::string msg = "") {
    return merge_signal(news, {{"company_news_summary", std::move(value), std::move(status), std::move(code), std::move(msg)}}, now());
  };
  CHECK(one("no_result").result.status == SignalStatus::kNoResult);
  CHECK_FALSE(one("no_result").billed);
  LookupOutcome failed = one("failed", Json(), "ProviderError", "upstream timed out");
  CHECK(failed.result.status == SignalStatus::kFailed);
  CHECK(failed.result.reason == Reason{"ProviderError", "upstream timed out"});
  LookupOutcome skipped = one("skipped", Json(), "RequirementUnmet", "company_website_url missing");
  CHECK(skipped.result.status == SignalStatus::kSkipped);
  CHECK(skipped.result.reason->code == "RequirementUnmet");
  CHECK(one("processing").result.reason->code == "not_finished");
  LookupOutcome empty = one("completed", Json("   "));
  CHECK(empty.result.status == SignalStatus::kNoResult);
  CHECK(empty.billed);  // pipe0 bills a completed output even when it is empty
  LookupOutcome absent = merge_signal(news, {{"unrelated", Json(1), "completed", "", ""}}, now());
  CHECK(absent.result.status == SignalStatus::kFailed);
  CHECK(absent.result.reason->code == "missing_output");
}

TEST_CASE("merge: tech stack is read from its alias technology_list") {
  LookupOutcome o = merge_signal(spec(Signal::kTechStack),
                                 {{"technology_list", Json::parse(R"([{"name":"React"}])").value(), "completed", "", ""}}, now());
  CHECK(o.result.status == SignalStatus::kFound);
  CHECK(value_to_json(o.value).dump() == R"({"technologies":[{"name":"React","category":null}]})");
}

TEST_CASE("merge: the typed value reaches the lead as parsed, and survives the store's JSON form") {
  struct Case {
    Signal signal;
    const char* fields;
  };
  const Case cases[] = {
      {Signal::kCompanyOverview,
       R"({"company_description":" Acme \"rockets\" ","headcount":"201-500","estimated_revenue":"$10-50M","founded_year":2015.0})"},
      {Signal::kTechStack, R"({"technology_stack":[{"name":"React","category":["Frontend"]},"Go","react"]})"},
      {Signal::kFunding,
       R"({"total_funding":"$25.5M","funding_rounds":[{"date":"2021-03-01","type":"Series A","amount":2e7,"investors":"A, B; C"}]})"},
      {Signal::kNews, R"({"company_news_summary":[{"title":"Launch"},"Hiring"]})"},
      {Signal::kLinkedInPosts,
       R"({"post_list":[{"text":"Hi","reactions":{"like":3,"love":4},"url":"https://x/1"},{"content":"Yo"}]})"},
  };
  for (const Case& c : cases) {
    CAPTURE(to_string(c.signal));
    std::vector<ProviderField> fields;
    Json parsed = Json::parse(c.fields).value();
    for (const auto& [name, value] : parsed.as_object()) {
      fields.push_back({name, value, "completed", "", ""});
    }
    LookupOutcome o = merge_signal(spec(c.signal), fields, now());
    REQUIRE(o.result.status == SignalStatus::kFound);
    // What the store keeps reads back to the same typed value.
    Json stored = value_to_json(o.value);
    Result<SignalValue> back = value_from_json(c.signal, stored);
    REQUIRE(back.ok());
    CHECK(*back == o.value);
    // Applied, it fills the signal's own member and shows as the store's JSON.
    EnrichedLead e;
    apply_value(e, c.signal, o.value);
    CHECK(signal_value_to_json(e, c.signal) == stored);
    for (Signal other : kAllSignals) {
      if (other != c.signal) CHECK(signal_value_to_json(e, other).is_null());
    }
  }
  CHECK(value_to_json(SignalValue()).is_null());
  CHECK(value_from_json(Signal::kNews, Json()).value() == SignalValue());
  CHECK_FALSE(value_from_json(Signal::kNews, Json("not an object")).ok());
}

TEST_CASE("a flat hash map that grows past a MiB (its arrays mapped, the old ones released as they empty) keeps every key") {
  // 400,000 keys: the key array doubles to 2^20 slots (8 MiB), well past the size from which
  // arrays are mapped from the kernel and released behind the move.
  std::mt19937_64 rng(7);
  FlatHashMap64<std::uint32_t> flat;
  std::vector<std::uint64_t> keys;
  for (std::uint32_t i = 0; i < 400000; ++i) {
    keys.push_back(rng());
    flat[keys.back()] = i;
  }
  REQUIRE(flat.size() == keys.size());
  for (std::uint32_t i = 0; i < keys.size(); ++i) {
    const std::uint32_t* v = flat.find(keys[i]);
    REQUIRE(v != nullptr);
    REQUIRE(*v == i);
  }
  CHECK(flat.find(12345) == nullptr);
  FlatHashSet64 people;
  for (std::uint64_t k : keys) people.insert(k);
  for (std::uint64_t k : keys) CHECK_FALSE(people.insert(k));
  CHECK(people.size() == keys.size());
}

TEST_CASE("the flat hash map agrees with std::map through inserts, lookups and erases") {
  // A few thousand live keys at up to three quarters full make probe runs, wrapping at the
  // table's end, so erasing from the middle of a run (which moves later keys back) is
  // exercised many times; key 0 is a key like any other.
  std::mt19937_64 rng(13);
  FlatHashMap64<std::uint32_t> flat;
  std::map<std::uint64_t, std::uint32_t> ref;
  for (int step = 0; step < 200000; ++step) {
    std::uint64_t key = rng() % 3000;
    switch (rng() % 4) {
      case 0:
      case 1:
        flat[key] = static_cast<std::uint32_t>(step);
        ref[key] = static_cast<std::uint32_t>(step);
        break;
      case 2: CHECK(flat.erase(key) == (ref.erase(key) == 1)); break;
      default: {
        std::uint32_t* v = flat.find(key);
        auto it = ref.find(key);
        REQUIRE((v != nullptr) == (it != ref.end()));
        if (v != nullptr) CHECK(*v == it->second);
      }
    }
    REQUIRE(flat.size() == ref.size());
  }
  for (const auto& [key, value] : ref) {
    REQUIRE(flat.find(key) != nullptr);
    CHECK(*flat.find(key) == value);
  }
  FlatHashSet64 set;
  CHECK(set.insert(0));
  CHECK(set.insert(42));
  CHECK_FALSE(set.insert(42));
  CHECK(set.contains(0));
  CHECK_FALSE(set.contains(7));
  CHECK(set.size() == 2);
}
