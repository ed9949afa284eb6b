#include "signals/signal_codec.h"
#include "leadenrich/signals.h"

#include <doctest/doctest.h>

using namespace leadenrich;

namespace {

Json::Object fields(std::string_view json) { return Json::parse(json).value().as_object(); }
const SignalSpec& spec(Signal s) { return find_spec(default_signal_specs(), s); }

}  // namespace

TEST_CASE("default specs follow the pipe0 contract") {
  CHECK(spec(Signal::kCompanyOverview).pipe_id == "company:overview@2");
  CHECK(spec(Signal::kTechStack).pipe_id == "company:techstack:builtwith@1");
  CHECK(spec(Signal::kFunding).pipe_id == "company:funding:leadmagic@1");
  CHECK(spec(Signal::kNews).pipe_id == "company:newssummary:website@1");
  CHECK(spec(Signal::kLinkedInPosts).pipe_id == "people:posts:crustdata@1");
  CHECK(spec(Signal::kLinkedInPosts).level == SignalLevel::kPerson);
  CHECK(spec(Signal::kLinkedInPosts).required_inputs == std::vector<std::string>{"profile_url"});
  int weights = 0;
  for (Signal s : kAllSignals) {
    CHECK(spec(s).signal == s);
    CHECK(spec(s).freshness > spec(s).no_result_freshness);
    weights += spec(s).weight;
  }
  CHECK(weights == 100);
}

TEST_CASE("signal names parse and list parsing names the bad item") {
  CHECK(parse_signal("tech_stack").value() == Signal::kTechStack);
  Result<std::vector<Signal>> list = parse_signal_list(" news, funding,,news ");
  REQUIRE(list.ok());
  CHECK(*list == std::vector<Signal>{Signal::kNews, Signal::kFunding});
  Result<std::vector<Signal>> bad = parse_signal_list("news,jobs");
  CHECK_FALSE(bad.ok());
  CHECK(bad.status().message().find("'jobs'") != std::string::npos);
}

TEST_CASE("number ranges read every shape providers send") {
  struct Case {
    Json in;
    std::optional<NumberRange> want;
  };
  const Case cases[] = {
      {Json(250), NumberRange{250, 250}},
      {Json("201-500"), NumberRange{201, 500}},
      {Json("201 - 500 employees"), NumberRange{201, 500}},
      {Json("10,001+"), NumberRange{10001, std::nullopt}},
      {Json("$10M-$50M"), NumberRange{10e6, 50e6}},
      {Json("$10-50M"), NumberRange{10e6, 50e6}},
      {Json("1.2B"), NumberRange{1.2e9, 1.2e9}},
      {Json("2015"), NumberRange{2015, 2015}},
      {Json("~300"), NumberRange{300, 300}},
      {Json("50 to 100"), NumberRange{50, 100}},
      {Json("unknown"), std::nullopt},
      {Json(), std::nullopt},
      {Json(true), std::nullopt},
      {Json(Json::Array{}), std::nullopt},
  };
  for (const Case& c : cases) {
    CAPTURE(c.in.dump());
    CHECK(parse_number_range(c.in) == c.want);
  }
}

TEST_CASE("a quantity too large for a double is unreadable, never infinite") {
  // An infinite range would write as null and read back from the store as 0: a cached lead
  // would say something else than the lead that was just looked up.
  std::string huge = "1" + std::string(300, '0');
  CHECK(parse_number_range(Json(huge + " trillion")) == std::nullopt);
  CHECK(parse_number_range(Json("5-" + huge + " trillion")) == NumberRange{5, 5});
  CHECK(parse_number_range(Json(huge + "-2 trillion")) == std::nullopt);
  CHECK(parse_number_range(Json(huge)) == NumberRange{1e300, 1e300});
}

TEST_CASE("company overview keeps raw values and parses numbers leniently") {
  auto o = read_company_overview(spec(Signal::kCompanyOverview),
                                 fields(R"({"company_description":"Acme builds rockets","company_industry":"Aerospace",
                                            "headcount":"201-500","founded_year":"2015","estimated_revenue":12000000})"));
  REQUIRE(o.has_value());
  CHECK(o->description == "Acme builds rockets");
  CHECK(o->headcount == Json("201-500"));
  CHECK(o->headcount_range == NumberRange{201, 500});
  CHECK(o->founded_year_number == 2015);
  CHECK(o->estimated_revenue_usd == NumberRange{12e6, 12e6});
  CHECK_FALSE(o->region.has_value());

  auto numeric = read_company_overview(spec(Signal::kCompanyOverview), fields(R"({"headcount":250,"founded_year":2015})"));
  REQUIRE(numeric.has_value());
  CHECK(numeric->headcount_range == NumberRange{250, 250});
  CHECK(numeric->founded_year_number == 2015);

  auto odd = read_company_overview(spec(Signal::kCompanyOverview),
                                   fields(R"({"headcount":{"weird":true},"founded_year":"long ago","company_region":42})"));
  REQUIRE(odd.has_value());
  CHECK_FALSE(odd->headcount_range.has_value());
  CHECK_FALSE(odd->founded_year_number.has_value());
  CHECK(odd->region == "42");

  CHECK_FALSE(read_company_overview(spec(Signal::kCompanyOverview), fields(R"({"unrelated":1})")).has_value());
}

TEST_CASE("tech stack accepts strings, objects, the technology_list alias and a comma string") {
  const SignalSpec& s = spec(Signal::kTechStack);
  auto strings = read_tech_stack(s, fields(R"({"technology_stack":["React","Node.js","react"]})"));
  REQUIRE(strings.has_value());
  REQUIRE(strings->technologies.size() == 2);
  CHECK(strings->technologies[1].name == "Node.js");

  auto objects = read_tech_stack(s, fields(R"({"technology_list":[{"name":"Stripe","category":"Payments"},{"title":"HubSpot","categories":["CRM","Marketing"]},{"nameless":1}]})"));
  REQUIRE(objects.has_value());
  REQUIRE(objects->technologies.size() == 2);
  CHECK(objects->technologies[0].category == "Payments");
  CHECK(objects->technologies[1].name == "HubSpot");
  CHECK(objects->technologies[1].category == "CRM");

  auto text = read_tech_stack(s, fields(R"({"technology_stack":"Go; Postgres, Kafka"})"));
  REQUIRE(text.has_value());
  CHECK(text->technologies.size() == 3);

  auto json_text = read_tech_stack(s, fields(R"({"technology_stack":"[\"Vue\",\"Rails\"]"})"));
  REQUIRE(json_text.has_value());
  CHECK(json_text->technologies.size() == 2);

  CHECK_FALSE(read_tech_stack(s, fields(R"({"technology_stack":[]})")).has_value());
}

TEST_CASE("funding reads totals and rounds in their many spellings") {
  auto f = read_funding(spec(Signal::kFunding), fields(R"({
      "funding_total_usd":"$25M",
      "funding_history":[
        {"date":"2021-03-01","round_type":"Series A","amount":20000000,"investors":["Sequoia",{"name":"a16z"}]},
        {"announced_on":"2019-06-01","series":"Seed","money_raised":"5M","lead_investors":"Y Combinator, SV Angel"},
        "not a round"
      ]})"));
  REQUIRE(f.has_value());
  CHECK(f->total_usd == 25e6);
  REQUIRE(f->rounds.size() == 2);
  CHECK(f->rounds[0].investors == std::vector<std::string>{"Sequoia", "a16z"});
  CHECK(f->rounds[1].round_type == "Seed");
  CHECK(f->rounds[1].amount_usd == 5e6);
  CHECK(f->rounds[1].investors.size() == 2);
  CHECK(f->rounds[1].date == "2019-06-01");
}

TEST_CASE("news is kept even when funding is absent, and lists become markdown") {
  auto n = read_news(spec(Signal::kNews), fields(R"({"company_news_summary":"## Acme\n- raised a round"})"));
  REQUIRE(n.has_value());
  CHECK(n->summary == "## Acme\n- raised a round");
  auto list = read_news(spec(Signal::kNews), fields(R"({"company_news_summary":[{"headline":"Launch"},"Hiring"]})"));
  REQUIRE(list.has_value());
  CHECK(list->summary == "- Launch\n- Hiring\n");
  CHECK_FALSE(read_news(spec(Signal::kNews), fields(R"({"company_news_summary":"  "})")).has_value());
}

TEST_CASE("posts read objects, strings and the post_list_string form") {
  const SignalSpec& s = spec(Signal::kLinkedInPosts);
  auto posts = read_linkedin_posts(s, fields(R"({"crustdata_post_list":[
      {"text":"Hiring!","posted_at":"2026-11-01","share_url":"https://x/1","num_reactions":"12"},
      {"content":"Shipped v2","reactions":{"like":3,"love":2}},
      "plain post", {"no_text":true}]})"));
  REQUIRE(posts.has_value());
  REQUIRE(posts->posts.size() == 3);
  CHECK(posts->posts[0].reactions == 12);
  CHECK(posts->posts[0].url == "https://x/1");
  CHECK(posts->posts[1].reactions == 5);
  CHECK(posts->posts[2].text == "plain post");

  auto one = read_linkedin_posts(s, fields(R"({"post_list_string":"Post one.\n\nPost two."})"));
  REQUIRE(one.has_value());
  CHECK(one->posts.size() == 1);
}

TEST_CASE("timestamps format and parse ISO-8601 in UTC") {
  Timestamp t = parse_timestamp("2026-11-25T02:00:00Z").value();
  CHECK(format_timestamp(t) == "2026-11-25T02:00:00Z");
  CHECK(format_timestamp(parse_timestamp("2026-11-25T03:30:00.250+01:30").value()) == "2026-11-25T02:00:00.250Z");
  CHECK(format_timestamp(parse_timestamp("2026-11-25").value()) == "2026-11-25T00:00:00Z");
  CHECK_FALSE(parse_timestamp("2026-13-01").ok());
  CHECK_FALSE(parse_timestamp("yesterday").ok());
  CHECK_FALSE(parse_timestamp("2026-11-25T02:00:00Zjunk").ok());
}

TEST_CASE("timestamps are written with zero padding, milliseconds only when present, at every edge") {
  auto at = [](long long ms) { return format_timestamp(Timestamp(std::chrono::milliseconds(ms))); };
  CHECK(at(0) == "1970-01-01T00:00:00Z");
  CHECK(at(5) == "1970-01-01T00:00:00.005Z");
  CHECK(at(-1) == "1969-12-31T23:59:59.999Z");
  CHECK(at(951'782'400'000) == "2000-02-29T00:00:00Z");  // a leap day
  CHECK(at(253'402'300'799'999) == "9999-12-31T23:59:59.999Z");
  CHECK(at(253'402'300'800'000) == "10000-01-01T00:00:00Z");
  CHECK(at(-62'135'596'800'000) == "0001-01-01T00:00:00Z");
  for (long long ms : {1'764'633'600'123LL, 1'700'000'000'000LL, 86'399'999LL}) {
    CHECK(parse_timestamp(at(ms)).value() == Timestamp(std::chrono::milliseconds(ms)));
  }
}
