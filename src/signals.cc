#include "internal/signal_codec.h"
#include "leadenrich/signals.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

namespace leadenrich {

using namespace std::chrono_literals;

// ---- signal names and specs ----------------------------------------------------------------

std::string_view to_string(Signal s) {
  switch (s) {
    case Signal::kCompanyOverview: return "company_overview";
    case Signal::kTechStack: return "tech_stack";
    case Signal::kFunding: return "funding";
    case Signal::kNews: return "news";
    case Signal::kLinkedInPosts: return "linkedin_posts";
  }
  return "unknown";
}

Result<Signal> parse_signal(std::string_view name) {
  for (Signal s : kAllSignals) {
    if (to_string(s) == name) return s;
  }
  return invalid_argument(fmt::format(
      "unknown signal '{}' (valid: company_overview, tech_stack, funding, news, linkedin_posts)", name));
}

Result<std::vector<Signal>> parse_signal_list(std::string_view list) {
  std::vector<Signal> out;
  while (!list.empty()) {
    std::size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front()))) item.remove_prefix(1);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) item.remove_suffix(1);
    if (item.empty()) continue;
    Result<Signal> s = parse_signal(item);
    if (!s.ok()) return s.status();
    if (std::find(out.begin(), out.end(), *s) == out.end()) out.push_back(*s);
  }
  return out;
}

const std::vector<SignalSpec>& default_signal_specs() {
  static const std::vector<SignalSpec> kSpecs = [] {
    std::vector<SignalSpec> specs;
    specs.push_back(SignalSpec{
        .signal = Signal::kCompanyOverview,
        .pipe_id = "company:overview@2",
        .level = SignalLevel::kCompany,
        .required_inputs = {"company_website_url"},
        .outputs = {{"description", {"company_description"}},
                    {"industry", {"company_industry"}},
                    {"region", {"company_region"}},
                    {"headcount", {"headcount", "company_headcount", "employee_count"}},
                    {"estimated_revenue", {"estimated_revenue", "company_revenue"}},
                    {"founded_year", {"founded_year", "company_founded_year"}}},
        .freshness = 30 * 24h,
        .no_result_freshness = 7 * 24h,
        .credits_per_lookup = 1.0,
        .weight = 30});
    specs.push_back(SignalSpec{
        .signal = Signal::kTechStack,
        .pipe_id = "company:techstack:builtwith@1",
        .level = SignalLevel::kCompany,
        .required_inputs = {"company_website_url"},
        .outputs = {{"technologies", {"technology_stack", "technology_list"}}},
        .freshness = 30 * 24h,
        .no_result_freshness = 7 * 24h,
        .credits_per_lookup = 1.0,
        .weight = 15});
    specs.push_back(SignalSpec{
        .signal = Signal::kFunding,
        .pipe_id = "company:funding:leadmagic@1",
        .level = SignalLevel::kCompany,
        .required_inputs = {"company_website_url"},
        .outputs = {{"total", {"funding_total_usd", "total_funding_usd", "total_funding"}},
                    {"rounds", {"funding_history", "funding_rounds"}}},
        .freshness = 14 * 24h,
        .no_result_freshness = 3 * 24h,
        .credits_per_lookup = 2.0,
        .weight = 15});
    specs.push_back(SignalSpec{
        .signal = Signal::kNews,
        .pipe_id = "company:newssummary:website@1",
        .level = SignalLevel::kCompany,
        .required_inputs = {"company_website_url"},
        .outputs = {{"summary", {"company_news_summary", "news_summary"}}},
        .freshness = 24h,
        .no_result_freshness = 12h,
        .credits_per_lookup = 1.0,
        .weight = 20});
    specs.push_back(SignalSpec{
        .signal = Signal::kLinkedInPosts,
        .pipe_id = "people:posts:crustdata@1",
        .level = SignalLevel::kPerson,
        .required_inputs = {"profile_url"},
        .outputs = {{"posts", {"crustdata_post_list", "post_list", "post_list_string"}}},
        .freshness = 12h,
        .no_result_freshness = 6h,
        .credits_per_lookup = 1.0,
        .weight = 20});
    return specs;
  }();
  return kSpecs;
}

const SignalSpec& find_spec(const std::vector<SignalSpec>& specs, Signal s) {
  for (const SignalSpec& spec : specs) {
    if (spec.signal == s) return spec;
  }
  return default_signal_specs()[static_cast<std::size_t>(s)];
}

std::string_view to_string(SignalStatus s) {
  switch (s) {
    case SignalStatus::kDisabled: return "disabled";
    case SignalStatus::kFound: return "found";
    case SignalStatus::kNoResult: return "no_result";
    case SignalStatus::kSkipped: return "skipped";
    case SignalStatus::kFailed: return "failed";
    case SignalStatus::kBudgetExhausted: return "budget_exhausted";
  }
  return "unknown";
}

Result<SignalStatus> parse_signal_status(std::string_view name) {
  for (auto s : {SignalStatus::kDisabled, SignalStatus::kFound, SignalStatus::kNoResult, SignalStatus::kSkipped,
                 SignalStatus::kFailed, SignalStatus::kBudgetExhausted}) {
    if (to_string(s) == name) return s;
  }
  return invalid_argument(fmt::format("unknown signal status '{}'", name));
}

// ---- lenient value reading -----------------------------------------------------------------

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A string, a number's text or a boolean's word; nullopt for null, empty text and containers.
std::optional<std::string> text_of(const Json& v) {
  switch (v.type()) {
    case Json::Type::kString: {
      std::string_view t = trim(v.as_string());
      if (t.empty()) return std::nullopt;
      return std::string(t);
    }
    case Json::Type::kNumber: return v.number_text();
    case Json::Type::kBool: return std::string(v.as_bool() ? "true" : "false");
    default: return std::nullopt;
  }
}

// The first member of `object` named any of `keys` that is not null.
const Json* member(const Json& object, std::initializer_list<std::string_view> keys) {
  for (std::string_view k : keys) {
    const Json* v = object.find(k);
    if (v != nullptr && !v->is_null()) return v;
  }
  return nullptr;
}

// The value of output role `role` in `fields`, trying each accepted field name in turn.
const Json* role_value(const SignalSpec& spec, const Json::Object& fields, std::string_view role) {
  for (const OutputField& out : spec.outputs) {
    if (out.role != role) continue;
    for (const std::string& name : out.names) {
      for (const auto& [key, value] : fields) {
        if (key == name && !value.is_null()) return &value;
      }
    }
  }
  return nullptr;
}

// Lists sometimes arrive as a JSON string holding the list; read it if so.
Json unwrap_list(const Json& v) {
  if (v.is_string()) {
    std::string_view t = trim(v.as_string());
    if (!t.empty() && (t.front() == '[' || t.front() == '{')) {
      Result<Json> parsed = Json::parse(t);
      if (parsed.ok()) return unwrap_list(*parsed);
    }
    return v;
  }
  if (v.is_object()) {
    if (const Json* inner = member(v, {"items", "data", "results", "technologies", "posts", "rounds"})) {
      if (inner->is_array()) return *inner;
    }
  }
  return v;
}

struct Quantity {
  double value = 0;
  double scale = 1;  // 1e3 for "k", 1e6 for "M", ...
};

// Scans `s` from `i` for the next number with an optional magnitude suffix.
std::optional<Quantity> next_quantity(std::string_view s, std::size_t& i) {
  while (i < s.size() && !std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  if (i >= s.size()) return std::nullopt;
  std::string digits;
  while (i < s.size()) {
    char c = s[i];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      digits.push_back(c);
    } else if (c == ',' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
      // a thousands separator: "10,001" 
    } else if (c == '.' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
      digits.push_back('.');
    } else {
      break;
    }
    ++i;
  }
  double value = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc()) return std::nullopt;
  std::size_t j = i;
  while (j < s.size() && s[j] == ' ') ++j;
  std::string word;
  while (j < s.size() && std::isalpha(static_cast<unsigned char>(s[j]))) {
    word.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(s[j]))));
    ++j;
  }
  double scale = 1;
  if (word == "k" || word == "thousand") scale = 1e3;
  else if (word == "m" || word == "mm" || word == "million" || word == "mn") scale = 1e6;
  else if (word == "b" || word == "bn" || word == "billion") scale = 1e9;
  else if (word == "t" || word == "trillion") scale = 1e12;
  if (scale != 1) i = j;
  // Out of range ("1e300 trillion") is unreadable, not infinite: a range must survive the
  // store's JSON, which has no infinity.
  if (!std::isfinite(value * scale)) return std::nullopt;
  return Quantity{value * scale, scale};
}

std::optional<int> year_of(const Json& v) {
  std::optional<NumberRange> r = parse_number_range(v);
  if (!r) return std::nullopt;
  double y = r->min;
  if (std::trunc(y) != y || y < 1000 || y > 3000) return std::nullopt;
  return static_cast<int>(y);
}

std::vector<std::string> names_of(const Json& v) {
  std::vector<std::string> out;
  Json list = unwrap_list(v);
  if (list.is_string()) {
    std::string_view s = list.as_string();
    std::size_t start = 0;
    while (start <= s.size()) {
      std::size_t end = s.find_first_of(",;\n", start);
      if (end == std::string_view::npos) end = s.size();
      std::string_view item = trim(s.substr(start, end - start));
      if (!item.empty()) out.emplace_back(item);
      start = end + 1;
    }
  } else if (list.is_array()) {
    for (const Json& item : list.as_array()) {
      std::optional<std::string> name;
      if (item.is_object()) {
        if (const Json* n = member(item, {"name", "investor_name", "title", "label"})) name = text_of(*n);
      } else {
        name = text_of(item);
      }
      if (name) out.push_back(std::move(*name));
    }
  } else if (auto t = text_of(list)) {
    out.push_back(std::move(*t));
  }
  return out;
}

}  // namespace

std::optional<NumberRange> parse_number_range(const Json& value) {
  if (value.is_number()) {
    std::optional<double> d = value.to_double();
    if (!d || !std::isfinite(*d)) return std::nullopt;
    return NumberRange{*d, *d};
  }
  if (!value.is_string()) return std::nullopt;
  std::string s = lower(trim(value.as_string()));
  if (s.empty()) return std::nullopt;
  std::size_t i = 0;
  std::optional<Quantity> a = next_quantity(s, i);
  if (!a) return std::nullopt;
  std::size_t after_first = i;
  std::optional<Quantity> b = next_quantity(s, i);
  bool open_ended = s.find('+', 0) != std::string::npos || s.front() == '>' ||
                    s.find("more than") != std::string::npos || s.find("over ") != std::string::npos;
  if (b) {
    // A separator must stand between the two numbers for this to be a range.
    std::string_view between = std::string_view(s).substr(after_first, i - after_first);
    bool is_range = between.find('-') != std::string_view::npos || between.find("to") != std::string_view::npos ||
                    between.find("\xE2\x80\x93") != std::string_view::npos;  // en dash
    if (is_range) {
      // "$10-50M": the second number's suffix applies to both.
      if (a->scale == 1 && b->scale != 1) a->value *= b->scale;
      if (!std::isfinite(a->value)) return std::nullopt;
      return NumberRange{a->value, b->value};
    }
  }
  if (open_ended) return NumberRange{a->value, std::nullopt};
  return NumberRange{a->value, a->value};
}

std::optional<CompanyOverview> read_company_overview(const SignalSpec& spec, const Json::Object& fields) {
  CompanyOverview o;
  bool any = false;
  auto text_role = [&](std::string_view role, std::optional<std::string>& out) {
    if (const Json* v = role_value(spec, fields, role)) {
      out = text_of(*v);
      any = any || out.has_value();
    }
  };
  text_role("description", o.description);
  text_role("industry", o.industry);
  text_role("region", o.region);
  if (const Json* v = role_value(spec, fields, "headcount")) {
    o.headcount = *v;
    o.headcount_range = parse_number_range(*v);
    any = true;
  }
  if (const Json* v = role_value(spec, fields, "estimated_revenue")) {
    o.estimated_revenue = *v;
    o.estimated_revenue_usd = parse_number_range(*v);
    any = true;
  }
  if (const Json* v = role_value(spec, fields, "founded_year")) {
    o.founded_year = *v;
    o.founded_year_number = year_of(*v);
    any = true;
  }
  if (!any) return std::nullopt;
  return o;
}

std::optional<TechStack> read_tech_stack(const SignalSpec& spec, const Json::Object& fields) {
  const Json* v = role_value(spec, fields, "technologies");
  if (v == nullptr) return std::nullopt;
  TechStack stack;
  auto add = [&](std::string name, std::optional<std::string> category) {
    for (const Technology& t : stack.technologies) {
      if (lower(t.name) == lower(name)) return;
    }
    stack.technologies.push_back(Technology{std::move(name), std::move(category)});
  };
  Json list = unwrap_list(*v);
  if (list.is_array()) {
    for (const Json& item : list.as_array()) {
      if (item.is_object()) {
        const Json* name = member(item, {"name", "technology", "tech", "title", "label"});
        std::optional<std::string> n = name ? text_of(*name) : std::nullopt;
        if (!n) continue;
        std::optional<std::string> category;
        if (const Json* c = member(item, {"category", "categories", "tag", "tags", "type"})) {
          if (c->is_array()) {
            if (!c->as_array().empty()) category = text_of(c->as_array().front());
          } else {
            category = text_of(*c);
          }
        }
        add(std::move(*n), std::move(category));
      } else if (auto n = text_of(item)) {
        add(std::move(*n), std::nullopt);
      }
    }
  } else {
    for (std::string& n : names_of(list)) add(std::move(n), std::nullopt);
  }
  if (stack.technologies.empty()) return std::nullopt;
  return stack;
}

std::optional<Funding> read_funding(const SignalSpec& spec, const Json::Object& fields) {
  Funding f;
  if (const Json* v = role_value(spec, fields, "total")) {
    f.total = *v;
    if (auto r = parse_number_range(*v)) f.total_usd = r->min;
  }
  if (const Json* v = role_value(spec, fields, "rounds")) {
    Json list = unwrap_list(*v);
    if (list.is_array()) {
      for (const Json& item : list.as_array()) {
        if (!item.is_object()) continue;
        FundingRound r;
        if (const Json* d = member(item, {"date", "announced_on", "announced_date", "announced_at", "closed_on"}))
          r.date = text_of(*d);
        if (const Json* t = member(item, {"round_type", "type", "round", "series", "funding_type",
                                          "investment_type", "round_name"}))
          r.round_type = text_of(*t);
        if (const Json* a = member(item, {"amount_usd", "amount", "money_raised", "raised_amount",
                                          "raised_amount_usd", "amount_raised"})) {
          r.amount = *a;
          if (auto range = parse_number_range(*a)) r.amount_usd = range->min;
        }
        if (const Json* inv = member(item, {"investors", "investor_names", "lead_investors", "investor_list"}))
          r.investors = names_of(*inv);
        if (r.date || r.round_type || !r.amount.is_null() || !r.investors.empty()) f.rounds.push_back(std::move(r));
      }
    }
  }
  if (f.total.is_null() && f.rounds.empty()) return std::nullopt;
  return f;
}

std::optional<News> read_news(const SignalSpec& spec, const Json::Object& fields) {
  const Json* v = role_value(spec, fields, "summary");
  if (v == nullptr) return std::nullopt;
  if (auto t = text_of(*v)) return News{std::move(*t)};
  Json list = unwrap_list(*v);
  if (!list.is_array()) return std::nullopt;
  std::string md;
  for (const Json& item : list.as_array()) {
    std::optional<std::string> line;
    if (item.is_object()) {
      if (const Json* t = member(item, {"headline", "title", "summary", "text"})) line = text_of(*t);
    } else {
      line = text_of(item);
    }
    if (line) md += "- " + *line + "\n";
  }
  if (md.empty()) return std::nullopt;
  return News{std::move(md)};
}

std::optional<LinkedInPosts> read_linkedin_posts(const SignalSpec& spec, const Json::Object& fields) {
  const Json* v = role_value(spec, fields, "posts");
  if (v == nullptr) return std::nullopt;
  LinkedInPosts out;
  Json list = unwrap_list(*v);
  if (list.is_array()) {
    for (const Json& item : list.as_array()) {
      LinkedInPost p;
      if (item.is_object()) {
        const Json* t = member(item, {"text", "content", "post_text", "commentary", "body", "message", "post"});
        std::optional<std::string> text = t ? text_of(*t) : std::nullopt;
        if (!text) continue;
        p.text = std::move(*text);
        if (const Json* d = member(item, {"posted_at", "date", "posted_on", "created_at", "published_at", "time"}))
          p.posted_at = text_of(*d);
        if (const Json* u = member(item, {"url", "post_url", "share_url", "link"})) p.url = text_of(*u);
        if (const Json* r = member(item, {"reactions", "num_reactions", "total_reactions", "reaction_count",
                                          "likes", "num_likes"})) {
          if (r->is_object()) {
            std::int64_t sum = 0;
            for (const auto& [k, n] : r->as_object()) sum += n.to_int().value_or(0);
            p.reactions = sum;
          } else if (auto range = parse_number_range(*r)) {
            p.reactions = static_cast<std::int64_t>(range->min);
          }
        }
      } else if (auto text = text_of(item)) {
        p.text = std::move(*text);
      } else {
        continue;
      }
      out.posts.push_back(std::move(p));
    }
  } else if (auto text = text_of(list)) {
    out.posts.push_back(LinkedInPost{std::move(*text), std::nullopt, std::nullopt, std::nullopt});
  }
  if (out.posts.empty()) return std::nullopt;
  return out;
}

}  // namespace leadenrich
