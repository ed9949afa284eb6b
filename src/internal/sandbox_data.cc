#include "internal/sandbox_data.h"

#include <array>

#include <fmt/format.h>

namespace leadenrich::internal {
namespace {

constexpr std::array<std::string_view, 24> kPrefixes = {
    "North", "Blue", "Bright", "Iron", "Silver", "Quantum", "Cedar", "Harbor", "Nimbus", "Vertex", "Atlas", "Lumen",
    "Granite", "Orbit", "Pioneer", "Summit", "Willow", "Zephyr", "Beacon", "Copper", "Delta", "Ember", "Falcon", "Jade"};
constexpr std::array<std::string_view, 12> kSuffixes = {"wind", "stone", "path", "forge", "field", "works",
                                                        "leaf", "gate", "wave", "bridge", "peak", "line"};
constexpr std::array<std::string_view, 6> kKinds = {"Analytics", "Labs", "Systems", "Health", "Logistics", "Robotics"};
constexpr std::array<std::string_view, 6> kTlds = {"com", "io", "ai", "co", "de", "co.uk"};
constexpr std::array<std::string_view, 16> kFirst = {"Jane", "Omar", "Zoë", "Priya", "Lars", "Mei", "José", "Aisha",
                                                     "Chen", "Ana", "Søren", "Fatima", "Liam", "Yuki", "Noah", "Élodie"};
constexpr std::array<std::string_view, 16> kLast = {"Doe", "Haddad", "Müller", "Nair", "Berg", "Wang", "García",
                                                    "Khan", "Li", "Silva", "Ørsted", "Zahra", "Murphy", "Sato",
                                                    "Cohen", "Dubois"};
constexpr std::array<std::string_view, 8> kTitles = {"VP Sales", "CTO", "Head of Growth", "Founder & CEO",
                                                     "Director of Engineering", "RevOps Lead", "CMO", "Product Manager"};
constexpr std::array<std::string_view, 6> kIndustries = {"Software", "Healthcare", "Logistics", "Fintech",
                                                         "Manufacturing", "Retail"};
constexpr std::array<std::string_view, 5> kRegions = {"North America", "Europe", "APAC", "LATAM", "Middle East"};
constexpr std::array<std::string_view, 12> kTech = {"React", "Node.js", "PostgreSQL", "Kubernetes", "Stripe", "HubSpot",
                                                    "Salesforce", "AWS", "Snowflake", "Segment", "Next.js", "Go"};
constexpr std::array<std::string_view, 6> kTechCategories = {"Frontend", "Backend", "Database", "Infrastructure",
                                                             "Payments", "CRM"};
constexpr std::array<std::string_view, 6> kInvestors = {"Sequoia", "Accel", "Index Ventures", "a16z", "Y Combinator",
                                                        "Balderton"};
constexpr std::array<std::string_view, 4> kRounds = {"Seed", "Series A", "Series B", "Series C"};

template <typename A>
std::string_view pick(const A& a, std::uint64_t h) {
  return a[h % a.size()];
}

struct Company {
  std::string name;
  std::string domain;
};

Company company(std::uint64_t seed, int index) {
  std::uint64_t h = mix64(seed ^ (0x9e37u + static_cast<std::uint64_t>(index)));
  std::string stem = fmt::format("{}{}", pick(kPrefixes, h), pick(kSuffixes, h >> 8));
  std::string kind(pick(kKinds, h >> 16));
  std::string slug;
  for (char c : stem) slug.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  // The index keeps domains distinct when the word lists repeat.
  return Company{fmt::format("{} {}", stem, kind), fmt::format("{}{}.{}", slug, index, pick(kTlds, h >> 24))};
}

Json field(Json value, std::string_view status, std::string_view type, std::string_view ref, Json reason = Json()) {
  Json::Object f;
  f.emplace_back("value", std::move(value));
  f.emplace_back("status", Json(status));
  f.emplace_back("type", Json(type));
  f.emplace_back("format", Json());
  f.emplace_back("reason", std::move(reason));
  Json::Object claimed;
  claimed.emplace_back("ref", Json(ref));
  claimed.emplace_back("config_hash", Json("sbx0"));
  f.emplace_back("claimed_by", Json(std::move(claimed)));
  Json::Object resolved;
  resolved.emplace_back("ref", Json(ref));
  resolved.emplace_back("environment", Json("sandbox"));
  resolved.emplace_back("config_hash", Json("sbx0"));
  resolved.emplace_back("input_hash", Json("sbx1"));
  f.emplace_back("resolved_by", Json(std::move(resolved)));
  return Json(std::move(f));
}

std::string domain_of(std::string_view url) {
  std::size_t scheme = url.find("://");
  if (scheme != std::string_view::npos) url.remove_prefix(scheme + 3);
  return std::string(url.substr(0, url.find('/')));
}

}  // namespace

std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint64_t hash_text(std::uint64_t seed, std::string_view text) {
  std::uint64_t h = 1469598103934665603ULL ^ seed;
  for (char c : text) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  return mix64(h);
}

SandboxWorld make_world(std::uint64_t seed, int campaigns, int leads_per_campaign) {
  SandboxWorld w;
  w.user_id = fmt::format("user_{:08x}", mix64(seed) & 0xffffffffu);
  w.agent_id = fmt::format("agent_{:016x}{:016x}", mix64(seed + 1), mix64(seed + 2));
  int companies_per_campaign = std::max(1, leads_per_campaign / 3);
  for (int c = 0; c < campaigns; ++c) {
    std::string cid = fmt::format("cmp_{:04d}", c + 1);
    std::string cname = fmt::format("{} outreach Q{}", pick(kIndustries, mix64(seed + 10 + static_cast<std::uint64_t>(c))), c % 4 + 1);
    Json::Object camp;
    camp.emplace_back("id", Json(cid));
    camp.emplace_back("name", Json(cname));
    camp.emplace_back("user_id", Json(w.user_id));
    camp.emplace_back("agent_id", Json(w.agent_id));
    camp.emplace_back("icp_summary", Json("B2B companies of 50-500 people evaluating sales tooling"));
    camp.emplace_back("created_at", Json(fmt::format("2026-0{}-01T09:00:00Z", c % 9 + 1)));
    camp.emplace_back("integrations", Json::parse(R"({"emails":[],"phones":[],"calendars":[],"apps":[],"accounts":[]})").value());
    camp.emplace_back("schedules", Json::parse(R"({"START":"09:00","END":"17:00","DAYS":["MON","TUE","WED","THU","FRI"]})").value());
    w.campaigns.emplace_back(std::move(camp));

    std::vector<Json> leads;
    for (int i = 0; i < leads_per_campaign; ++i) {
      std::uint64_t h = mix64(seed * 31 + static_cast<std::uint64_t>(c) * 100003 + static_cast<std::uint64_t>(i));
      // Companies are shared by several contacts, and partly across campaigns.
      int company_index = c * (companies_per_campaign / 2) + static_cast<int>(h % static_cast<std::uint64_t>(companies_per_campaign));
      Company co = company(seed, company_index);
      std::string first(pick(kFirst, h >> 3)), last(pick(kLast, h >> 9));
      std::string local = fmt::format("{}.{}{}", first, last, i);
      Json::Object l;
      l.emplace_back("lead_id", Json(fmt::format("lead_{}_{:04d}", c + 1, i + 1)));
      l.emplace_back("agent_id", Json(w.agent_id));
      l.emplace_back("campaign_id", Json(cid));
      l.emplace_back("task_id", Json(fmt::format("task_{:06x}", h & 0xffffff)));
      l.emplace_back("task_status", Json(pick(std::array<std::string_view, 3>{"approved", "pending", "rejected"}, h >> 13)));
      l.emplace_back("campaign_name", Json(cname));
      l.emplace_back("name", Json(first + " " + last));
      std::uint64_t e = (h >> 17) % 20;
      if (i == 0 && c == 0) {
        l.emplace_back("email", Json());  // the lead with neither email nor website
      } else if (e < 2) {
        l.emplace_back("email", Json(fmt::format("{}@gmail.com", local)));
      } else if (e < 3) {
        l.emplace_back("email", Json());
      } else if (e < 6) {
        l.emplace_back("email", Json(fmt::format("{}@{}", local, co.domain)));
        // mixed case: "Jane.Doe3@Northwind3.com"
        std::string mixed = fmt::format("{}@{}", local, co.domain);
        mixed[mixed.find('@') + 1] = static_cast<char>(std::toupper(static_cast<unsigned char>(mixed[mixed.find('@') + 1])));
        l.back().second = Json(mixed);
      } else {
        l.emplace_back("email", Json(fmt::format("{}@{}", local, co.domain)));
      }
      l.emplace_back("phone", (h >> 21) % 3 == 0 ? Json() : Json(fmt::format("+1 555 {:04d}", (h >> 23) % 10000)));
      l.emplace_back("organization", Json(co.name));
      l.emplace_back("designation", Json(pick(kTitles, h >> 27)));
      std::uint64_t li = (h >> 31) % 10;
      std::string slug = fmt::format("{}-{}-{}", first, last, company_index * 7 + i);
      if (li < 3) {
        l.emplace_back("linkedin_url", Json());
      } else if (li < 5) {
        l.emplace_back("linkedin_url", Json(fmt::format("linkedin.com/in/{}/", slug)));
      } else {
        l.emplace_back("linkedin_url", Json(fmt::format("https://www.linkedin.com/in/{}", slug)));
      }
      std::uint64_t ws = (h >> 35) % 10;
      if ((i == 0 && c == 0) || ws < 4) {
        l.emplace_back("website", Json());
      } else if (ws < 6) {
        l.emplace_back("website", Json(fmt::format("https://www.{}/about", co.domain)));
      } else if (ws < 7) {
        l.emplace_back("website", Json(fmt::format("HTTP://{}", co.domain)));
      } else {
        l.emplace_back("website", Json(co.domain));
      }
      l.emplace_back("status", Json(pick(std::array<std::string_view, 3>{"approved", "pending", "rejected"}, h >> 39)));
      l.emplace_back("type", Json((h >> 41) % 2 ? "new" : "old"));
      l.emplace_back("created_at", Json(fmt::format("2026-10-{:02d}T{:02d}:00:00Z", (h >> 43) % 28 + 1, (h >> 47) % 24)));
      if ((h >> 51) % 5 == 0) l.emplace_back("apollo_score", Json(static_cast<int>((h >> 53) % 100)));
      leads.emplace_back(std::move(l));
    }
    w.leads.push_back(std::move(leads));
  }
  return w;
}

const SandboxPipe* find_sandbox_pipe(std::string_view id) {
  static const std::vector<SandboxPipe> kCatalog = {
      {"company:overview@1", {"company_website_url"},
       {"company_description", "company_industry", "company_region", "headcount", "estimated_revenue", "founded_year"}},
      {"company:overview@2", {"company_website_url"},
       {"company_description", "company_industry", "company_region", "headcount", "estimated_revenue", "founded_year"}},
      {"company:overview@3", {"company_website_url"},
       {"company_description", "company_industry", "company_region", "headcount", "estimated_revenue", "founded_year",
        "company_name"}},
      {"company:techstack:builtwith@1", {"company_website_url"}, {"technology_stack"}},
      {"company:funding:leadmagic@1", {"company_website_url"}, {"funding_total_usd", "funding_history"}},
      {"company:newssummary:website@1", {"company_website_url"}, {"company_news_summary"}},
      {"people:posts:crustdata@1", {"profile_url"}, {"crustdata_post_list"}},
      {"person:workemail:waterfall@1", {"name", "company_domain"}, {"work_email"}},
      {"person:mobile:profileurl:waterfall@1", {"profile_url"}, {"mobile"}},
  };
  for (const SandboxPipe& p : kCatalog) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

Json::Object sandbox_fields(std::uint64_t seed, const SandboxPipe& pipe, const Json::Object& inputs, bool& billed,
                            std::string& lookup_key) {
  billed = false;
  Json::Object out;
  std::string missing;
  lookup_key.clear();
  for (std::string_view req : pipe.required) {
    const Json* v = nullptr;
    for (const auto& [k, val] : inputs) {
      if (k == req) v = &val;
    }
    if (v == nullptr || v->is_null() || (v->is_string() && v->as_string().empty())) {
      missing = std::string(req);
      break;
    }
    lookup_key += (v->is_string() ? v->as_string() : v->dump()) + "|";
  }
  if (!missing.empty()) {
    Json::Object reason;
    reason.emplace_back("code", Json("RequirementUnmet"));
    reason.emplace_back("summary", Json(fmt::format("{} missing", missing)));
    reason.emplace_back("message", Json(fmt::format("{} needs {}, which this record does not have", pipe.id, missing)));
    for (std::string_view name : pipe.outputs) {
      out.emplace_back(std::string(name), field(Json(), "skipped", "unknown", pipe.id, Json(reason)));
    }
    return out;
  }
  std::uint64_t h = hash_text(seed, std::string(pipe.id) + "#" + lookup_key);
  if (h % 5 == 0) {
    for (std::string_view name : pipe.outputs) out.emplace_back(std::string(name), field(Json(), "no_result", "unknown", pipe.id));
    return out;
  }
  billed = true;
  std::string domain;
  for (const auto& [k, v] : inputs) {
    if (k == "company_website_url" && v.is_string()) domain = domain_of(v.as_string());
  }
  for (std::string_view name : pipe.outputs) {
    std::uint64_t fh = mix64(h ^ hash_text(0, name));
    Json value;
    std::string_view type = "string";
    if (name == "company_description") {
      value = Json(fmt::format("{} builds {} software for mid-market teams.", domain, pick(kIndustries, fh)));
    } else if (name == "company_industry") {
      value = Json(pick(kIndustries, fh));
    } else if (name == "company_region") {
      value = Json(pick(kRegions, fh));
    } else if (name == "company_name") {
      value = Json(domain);
    } else if (name == "headcount") {
      std::uint64_t n = 20 + fh % 900;
      if (fh % 2) {
        value = Json(static_cast<std::int64_t>(n));
        type = "number";
      } else {
        value = Json(fmt::format("{}-{}", n / 100 * 100 + 1, n / 100 * 100 + 100));
      }
    } else if (name == "estimated_revenue") {
      std::uint64_t m = 1 + fh % 90;
      if (fh % 3 == 0) {
        value = Json(static_cast<std::int64_t>(m * 1'000'000));
        type = "number";
      } else {
        value = Json(fmt::format("${}M-${}M", m, m * 2));
      }
    } else if (name == "founded_year") {
      int year = 1990 + static_cast<int>(fh % 35);
      value = fh % 2 ? Json(year) : Json(std::to_string(year));
      type = fh % 2 ? "number" : "string";
    } else if (name == "technology_stack") {
      Json::Array list;
      std::size_t n = 2 + fh % 5;
      for (std::size_t k = 0; k < n; ++k) {
        std::string_view tech = kTech[(fh >> (k * 4)) % kTech.size()];
        if (fh % 2) {
          list.emplace_back(tech);
        } else {
          Json::Object t;
          t.emplace_back("name", Json(tech));
          t.emplace_back("category", Json(pick(kTechCategories, (fh >> (k * 3)) + k)));
          list.emplace_back(std::move(t));
        }
      }
      value = Json(std::move(list));
      type = "json";
    } else if (name == "funding_total_usd") {
      std::uint64_t m = 1 + fh % 120;
      value = fh % 2 ? Json(static_cast<std::int64_t>(m * 1'000'000)) : Json(fmt::format("${}M", m));
      type = fh % 2 ? "number" : "string";
    } else if (name == "funding_history") {
      Json::Array rounds;
      std::size_t n = 1 + fh % 3;
      for (std::size_t k = 0; k < n; ++k) {
        Json::Object r;
        r.emplace_back("date", Json(fmt::format("{}-0{}-15", 2018 + k * 2, 1 + (fh >> k) % 9)));
        r.emplace_back("round_type", Json(kRounds[k % kRounds.size()]));
        r.emplace_back("amount", (fh >> k) % 2 ? Json(static_cast<std::int64_t>((k + 1) * 5'000'000)) : Json(fmt::format("{}M", (k + 1) * 5)));
        r.emplace_back("investors", Json(Json::Array{Json(pick(kInvestors, fh >> (k * 5))), Json(pick(kInvestors, fh >> (k * 7 + 1)))}));
        rounds.emplace_back(std::move(r));
      }
      value = Json(std::move(rounds));
      type = "json";
    } else if (name == "company_news_summary") {
      value = Json(fmt::format("## {}\n- Launched a new {} product line\n- Hiring across {}\n", domain,
                               pick(kIndustries, fh), pick(kRegions, fh >> 5)));
    } else if (name == "crustdata_post_list") {
      Json::Array posts;
      std::size_t n = 1 + fh % 3;
      for (std::size_t k = 0; k < n; ++k) {
        Json::Object p;
        p.emplace_back("text", Json(fmt::format("Thoughts on {} and what our team learned this quarter (#{})",
                                                pick(kTech, fh >> (k * 3)), k + 1)));
        p.emplace_back("posted_at", Json(fmt::format("2026-11-{:02d}", 1 + (fh >> (k * 4)) % 24)));
        p.emplace_back("url", Json(fmt::format("https://www.linkedin.com/feed/update/urn:li:activity:{}", fh % 1000000 + k)));
        p.emplace_back("reactions", (fh >> k) % 2 ? Json(static_cast<int>((fh >> 8) % 300)) : Json(std::to_string((fh >> 8) % 300)));
        posts.emplace_back(std::move(p));
      }
      value = Json(std::move(posts));
      type = "json";
    } else if (name == "work_email") {
      value = Json(fmt::format("contact@{}", domain.empty() ? "example.com" : domain));
    } else if (name == "mobile") {
      value = Json(fmt::format("+1 555 {:04d}", fh % 10000));
    }
    out.emplace_back(std::string(name), field(std::move(value), "completed", type, pipe.id));
  }
  return out;
}

}  // namespace leadenrich::internal
