#include "leadenrich/lead.h"

#include <algorithm>
#include <cmath>
#include <iterator>

#include <fmt/format.h>

#include "internal/json_members.h"
#include "internal/lead_json.h"

namespace leadenrich {
namespace {

using StringField = std::optional<std::string> RawLead::*;

struct NamedField {
  std::string_view name;
  StringField field;  // nullptr for lead_id
};

constexpr std::array<NamedField, 16> kRawLeadFields = {{
    {"lead_id", nullptr},
    {"agent_id", &RawLead::agent_id},
    {"campaign_id", &RawLead::campaign_id},
    {"task_id", &RawLead::task_id},
    {"task_status", &RawLead::task_status},
    {"campaign_name", &RawLead::campaign_name},
    {"name", &RawLead::name},
    {"email", &RawLead::email},
    {"phone", &RawLead::phone},
    {"organization", &RawLead::organization},
    {"designation", &RawLead::designation},
    {"linkedin_url", &RawLead::linkedin_url},
    {"website", &RawLead::website},
    {"status", &RawLead::status},
    {"type", &RawLead::type},
    {"created_at", &RawLead::created_at},
}};

const NamedField* known_field(std::string_view name) {
  for (const NamedField& f : kRawLeadFields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// Reads a scalar as text: strings as they are, numbers as their text, booleans as words.
// `where()` names the value's path; it is built only for the error, never on the way through.
template <typename Where>
Result<std::optional<std::string>> scalar_text(const Json& v, Where&& where) {
  switch (v.type()) {
    case Json::Type::kNull: return std::optional<std::string>();
    case Json::Type::kString: return std::optional<std::string>(v.as_string());
    case Json::Type::kNumber: return std::optional<std::string>(v.number_text());
    case Json::Type::kBool: return std::optional<std::string>(v.as_bool() ? "true" : "false");
    default:
      return invalid_argument(fmt::format("{}: expected a string, got {}", where(), v.type_name()));
  }
}

Json optional_text(const std::optional<std::string>& s) { return s ? Json(*s) : Json(); }
Json optional_number(const std::optional<double>& d) { return d ? Json(*d) : Json(); }

Json range_json(const std::optional<NumberRange>& r) {
  if (!r) return Json();
  Json::Object o;
  o.emplace_back("min", Json(r->min));
  o.emplace_back("max", optional_number(r->max));
  return Json(std::move(o));
}

Json value_json(const CompanyOverview& v) {
  Json::Object o;
  o.emplace_back("description", optional_text(v.description));
  o.emplace_back("industry", optional_text(v.industry));
  o.emplace_back("region", optional_text(v.region));
  o.emplace_back("headcount", v.headcount);
  o.emplace_back("headcount_range", range_json(v.headcount_range));
  o.emplace_back("estimated_revenue", v.estimated_revenue);
  o.emplace_back("estimated_revenue_usd", range_json(v.estimated_revenue_usd));
  o.emplace_back("founded_year", v.founded_year);
  o.emplace_back("founded_year_number",
                 v.founded_year_number ? Json(*v.founded_year_number) : Json());
  return Json(std::move(o));
}

Json value_json(const TechStack& v) {
  Json::Array items;
  for (const Technology& t : v.technologies) {
    Json::Object o;
    o.emplace_back("name", Json(t.name));
    o.emplace_back("category", optional_text(t.category));
    items.emplace_back(std::move(o));
  }
  Json::Object o;
  o.emplace_back("technologies", Json(std::move(items)));
  return Json(std::move(o));
}

Json value_json(const Funding& v) {
  Json::Array rounds;
  for (const FundingRound& r : v.rounds) {
    Json::Array investors;
    for (const std::string& i : r.investors) investors.emplace_back(i);
    Json::Object o;
    o.emplace_back("date", optional_text(r.date));
    o.emplace_back("round_type", optional_text(r.round_type));
    o.emplace_back("amount", r.amount);
    o.emplace_back("amount_usd", optional_number(r.amount_usd));
    o.emplace_back("investors", Json(std::move(investors)));
    rounds.emplace_back(std::move(o));
  }
  Json::Object o;
  o.emplace_back("total", v.total);
  o.emplace_back("total_usd", optional_number(v.total_usd));
  o.emplace_back("rounds", Json(std::move(rounds)));
  return Json(std::move(o));
}

Json value_json(const News& v) {
  Json::Object o;
  o.emplace_back("summary", Json(v.summary));
  return Json(std::move(o));
}

Json value_json(const LinkedInPosts& v) {
  Json::Array posts;
  for (const LinkedInPost& p : v.posts) {
    Json::Object o;
    o.emplace_back("text", Json(p.text));
    o.emplace_back("posted_at", optional_text(p.posted_at));
    o.emplace_back("url", optional_text(p.url));
    o.emplace_back("reactions", p.reactions ? Json(*p.reactions) : Json());
    posts.emplace_back(std::move(o));
  }
  Json::Object o;
  o.emplace_back("posts", Json(std::move(posts)));
  return Json(std::move(o));
}

template <typename T>
Json optional_value_json(const std::optional<T>& v) {
  return v ? value_json(*v) : Json();
}

Json result_json(const SignalResult& r, Json value) {
  Json::Object o;
  o.emplace_back("status", Json(to_string(r.status)));
  if (r.reason) {
    Json::Object reason;
    reason.emplace_back("code", Json(r.reason->code));
    reason.emplace_back("message", Json(r.reason->message));
    o.emplace_back("reason", Json(std::move(reason)));
  } else {
    o.emplace_back("reason", Json());
  }
  o.emplace_back("source", Json(r.source));
  o.emplace_back("fetched_at", r.fetched_at ? Json(format_timestamp(*r.fetched_at)) : Json());
  o.emplace_back("from_cache", Json(r.from_cache));
  o.emplace_back("value", std::move(value));
  return Json(std::move(o));
}

Json signal_list_json(const std::vector<Signal>& signals) {
  Json::Array a;
  for (Signal s : signals) a.emplace_back(to_string(s));
  return Json(std::move(a));
}

// ---- reading back (lenient) ----

// Where a value sits in the document ("$.signals.funding.value.rounds[2]"), kept as links to its
// parent so the text is built only when an error needs it, never for values that read fine.
class Path {
 public:
  explicit Path(std::string_view root) : name_(root) {}
  Path member(std::string_view key) const { return Path(this, key, 0); }
  Path item(std::size_t index) const { return Path(this, {}, index + 1); }
  std::string str() const {
    if (parent_ == nullptr) return std::string(name_);
    return index_ == 0 ? fmt::format("{}.{}", parent_->str(), name_) : fmt::format("{}[{}]", parent_->str(), index_ - 1);
  }

 private:
  Path(const Path* parent, std::string_view name, std::size_t index) : parent_(parent), name_(name), index_(index) {}
  const Path* parent_ = nullptr;  // outlives this: paths live on the stack of the readers below
  std::string_view name_;
  std::size_t index_ = 0;  // 1 + the item's index; 0 for a member
};

// A path-aware reader over one JSON object.
class ObjectReader {
 public:
  ObjectReader(const Json& j, Path path) : j_(j), path_(path) {}

  const Path& path() const { return path_; }
  Status check_object() const {
    if (j_.is_object()) return {};
    return invalid_argument(fmt::format("{}: expected an object, got {}", path_.str(), j_.type_name()));
  }
  const Json* get(std::string_view key) const {
    const Json* v = j_.find(key);
    return (v == nullptr || v->is_null()) ? nullptr : v;
  }
  std::string at(std::string_view key) const { return path_.member(key).str(); }

  Status text(std::string_view key, std::optional<std::string>& out) const {
    out.reset();
    if (const Json* v = get(key)) {
      Result<std::optional<std::string>> t = scalar_text(*v, [&] { return at(key); });
      if (!t.ok()) return t.status();
      out = std::move(t).value();
    }
    return {};
  }
  Status number(std::string_view key, std::optional<double>& out) const {
    out.reset();
    if (const Json* v = get(key)) {
      out = v->to_double();
      if (!out) return invalid_argument(fmt::format("{}: expected a number, got {}", at(key), v->type_name()));
    }
    return {};
  }
  Json raw(std::string_view key) const {
    const Json* v = j_.find(key);
    return v ? *v : Json();
  }

 private:
  const Json& j_;
  Path path_;
};

Result<std::optional<NumberRange>> read_range(const ObjectReader& r, std::string_view key) {
  const Json* v = r.get(key);
  if (v == nullptr) return std::optional<NumberRange>();
  ObjectReader rr(*v, r.path().member(key));
  LEADENRICH_RETURN_IF_ERROR(rr.check_object());
  NumberRange range;
  std::optional<double> min;
  LEADENRICH_RETURN_IF_ERROR(rr.number("min", min));
  LEADENRICH_RETURN_IF_ERROR(rr.number("max", range.max));
  range.min = min.value_or(0);
  return std::optional<NumberRange>(range);
}

Result<CompanyOverview> read_overview_value(const ObjectReader& r) {
  CompanyOverview v;
  LEADENRICH_RETURN_IF_ERROR(r.text("description", v.description));
  LEADENRICH_RETURN_IF_ERROR(r.text("industry", v.industry));
  LEADENRICH_RETURN_IF_ERROR(r.text("region", v.region));
  v.headcount = r.raw("headcount");
  v.estimated_revenue = r.raw("estimated_revenue");
  v.founded_year = r.raw("founded_year");
  auto hc = read_range(r, "headcount_range");
  if (!hc.ok()) return hc.status();
  v.headcount_range = *hc;
  auto rev = read_range(r, "estimated_revenue_usd");
  if (!rev.ok()) return rev.status();
  v.estimated_revenue_usd = *rev;
  std::optional<double> year;
  LEADENRICH_RETURN_IF_ERROR(r.number("founded_year_number", year));
  if (year) v.founded_year_number = static_cast<int>(*year);
  return v;
}

template <typename F>
Status for_each_item(const ObjectReader& r, std::string_view key, F&& f) {
  const Json* v = r.get(key);
  if (v == nullptr) return {};
  if (!v->is_array()) return invalid_argument(fmt::format("{}: expected an array, got {}", r.at(key), v->type_name()));
  Path list = r.path().member(key);
  std::size_t i = 0;
  for (const Json& item : v->as_array()) {
    LEADENRICH_RETURN_IF_ERROR(f(item, list.item(i++)));
  }
  return {};
}

Result<TechStack> read_tech_value(const ObjectReader& r) {
  TechStack v;
  Status s = for_each_item(r, "technologies", [&](const Json& item, const Path& path) -> Status {
    ObjectReader ir(item, path);
    LEADENRICH_RETURN_IF_ERROR(ir.check_object());
    Technology t;
    std::optional<std::string> name;
    LEADENRICH_RETURN_IF_ERROR(ir.text("name", name));
    LEADENRICH_RETURN_IF_ERROR(ir.text("category", t.category));
    t.name = name.value_or("");
    v.technologies.push_back(std::move(t));
    return {};
  });
  if (!s.ok()) return s;
  return v;
}

Result<Funding> read_funding_value(const ObjectReader& r) {
  Funding v;
  v.total = r.raw("total");
  LEADENRICH_RETURN_IF_ERROR(r.number("total_usd", v.total_usd));
  Status s = for_each_item(r, "rounds", [&](const Json& item, const Path& path) -> Status {
    ObjectReader ir(item, path);
    LEADENRICH_RETURN_IF_ERROR(ir.check_object());
    FundingRound round;
    LEADENRICH_RETURN_IF_ERROR(ir.text("date", round.date));
    LEADENRICH_RETURN_IF_ERROR(ir.text("round_type", round.round_type));
    round.amount = ir.raw("amount");
    LEADENRICH_RETURN_IF_ERROR(ir.number("amount_usd", round.amount_usd));
    LEADENRICH_RETURN_IF_ERROR(for_each_item(ir, "investors", [&](const Json& inv, const Path& p) -> Status {
      Result<std::optional<std::string>> t = scalar_text(inv, [&] { return p.str(); });
      if (!t.ok()) return t.status();
      if (*t) round.investors.push_back(**t);
      return {};
    }));
    v.rounds.push_back(std::move(round));
    return {};
  });
  if (!s.ok()) return s;
  return v;
}

Result<News> read_news_value(const ObjectReader& r) {
  std::optional<std::string> summary;
  LEADENRICH_RETURN_IF_ERROR(r.text("summary", summary));
  return News{summary.value_or("")};
}

Result<LinkedInPosts> read_posts_value(const ObjectReader& r) {
  LinkedInPosts v;
  Status s = for_each_item(r, "posts", [&](const Json& item, const Path& path) -> Status {
    ObjectReader ir(item, path);
    LEADENRICH_RETURN_IF_ERROR(ir.check_object());
    LinkedInPost p;
    std::optional<std::string> text;
    LEADENRICH_RETURN_IF_ERROR(ir.text("text", text));
    p.text = text.value_or("");
    LEADENRICH_RETURN_IF_ERROR(ir.text("posted_at", p.posted_at));
    LEADENRICH_RETURN_IF_ERROR(ir.text("url", p.url));
    std::optional<double> reactions;
    LEADENRICH_RETURN_IF_ERROR(ir.number("reactions", reactions));
    if (reactions) p.reactions = static_cast<std::int64_t>(*reactions);
    v.posts.push_back(std::move(p));
    return {};
  });
  if (!s.ok()) return s;
  return v;
}

template <typename T, typename Reader>
Status read_optional_value(const Json& value, const Path& path, Reader reader, std::optional<T>& out) {
  out.reset();
  if (value.is_null()) return {};
  ObjectReader vr(value, path);
  LEADENRICH_RETURN_IF_ERROR(vr.check_object());
  Result<T> v = reader(vr);
  if (!v.ok()) return v.status();
  out = std::move(v).value();
  return {};
}

Status read_signal_value(EnrichedLead& lead, Signal s, const Json& value, const Path& path) {
  switch (s) {
    case Signal::kCompanyOverview: return read_optional_value(value, path, read_overview_value, lead.company_overview);
    case Signal::kTechStack: return read_optional_value(value, path, read_tech_value, lead.tech_stack);
    case Signal::kFunding: return read_optional_value(value, path, read_funding_value, lead.funding);
    case Signal::kNews: return read_optional_value(value, path, read_news_value, lead.news);
    case Signal::kLinkedInPosts: return read_optional_value(value, path, read_posts_value, lead.linkedin_posts);
  }
  return internal_error("unknown signal");
}

Result<std::vector<Signal>> read_signal_list(const ObjectReader& r, std::string_view key) {
  std::vector<Signal> out;
  Status s = for_each_item(r, key, [&](const Json& item, const Path& path) -> Status {
    if (!item.is_string()) return invalid_argument(fmt::format("{}: expected a signal name", path.str()));
    Result<Signal> sig = parse_signal(item.as_string());
    if (!sig.ok()) return invalid_argument(fmt::format("{}: {}", path.str(), sig.status().message()));
    out.push_back(*sig);
    return {};
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace

const std::array<std::string_view, 16>& raw_lead_field_names() {
  static const std::array<std::string_view, 16> kNames = [] {
    std::array<std::string_view, 16> names{};
    for (std::size_t i = 0; i < kRawLeadFields.size(); ++i) names[i] = kRawLeadFields[i].name;
    return names;
  }();
  return kNames;
}

namespace {

// One member of a raw lead: a known field as text (lead_id present and not blank), any other
// kept as it came. `value` is a const Json& (copied when kept) or a Json (moved).
template <typename J>
Status read_raw_member(RawLead& lead, bool& has_id, std::string_view key, J&& value) {
  const NamedField* f = known_field(key);
  if (f == nullptr) {
    lead.extra.emplace_back(std::string(key), std::forward<J>(value));
    return {};
  }
  Result<std::optional<std::string>> text = scalar_text(value, [&] { return fmt::format("lead.{}", key); });
  if (!text.ok()) return text.status();
  if (f->field == nullptr) {
    if (!*text || text->value().find_first_not_of(" \t\r\n") == std::string::npos) {
      return invalid_argument("lead.lead_id: missing or empty");
    }
    lead.lead_id = std::move(**text);
    has_id = true;
  } else {
    lead.*(f->field) = std::move(text).value();
  }
  return {};
}

Status wrong_lead_type(const Json& value) {
  return invalid_argument(fmt::format("lead: expected a JSON object, got {}", value.type_name()));
}

}  // namespace

Result<RawLead> raw_lead_from_json(const Json& object) {
  if (!object.is_object()) return wrong_lead_type(object);
  RawLead lead;
  bool has_id = false;
  for (const auto& [key, value] : object.as_object()) {
    LEADENRICH_RETURN_IF_ERROR(read_raw_member(lead, has_id, key, value));
  }
  if (!has_id) return invalid_argument("lead.lead_id: missing or empty");
  return lead;
}

// The same as raw_lead_from_json(Json::parse(text)), member by member: a lead's object is the
// largest allocation of its tree, and every row of a file paid for it.
Result<RawLead> parse_raw_lead(std::string_view text) {
  RawLead lead;
  bool has_id = false;
  Result<std::optional<Json>> other = internal::parse_object_members(
      text, [&](std::string_view key, Json&& value) { return read_raw_member(lead, has_id, key, std::move(value)); });
  if (!other.ok()) return other.status();
  if (*other) return wrong_lead_type(**other);
  if (!has_id) return invalid_argument("lead.lead_id: missing or empty");
  return lead;
}

Json to_json(const RawLead& lead) {
  Json::Object o;
  o.reserve(kRawLeadFields.size() + lead.extra.size());
  for (const NamedField& f : kRawLeadFields) {
    if (f.field == nullptr) {
      o.emplace_back(std::string(f.name), Json(lead.lead_id));
    } else {
      o.emplace_back(std::string(f.name), optional_text(lead.*(f.field)));
    }
  }
  for (const auto& member : lead.extra) o.push_back(member);
  return Json(std::move(o));
}

void update_signal_lists(EnrichedLead& lead) {
  lead.signals_found.clear();
  lead.signals_missed.clear();
  for (Signal s : kAllSignals) {
    SignalStatus st = lead.result(s).status;
    if (st == SignalStatus::kDisabled) continue;
    (st == SignalStatus::kFound ? lead.signals_found : lead.signals_missed).push_back(s);
  }
}

int compute_quality_score(const EnrichedLead& lead, const std::vector<SignalSpec>& specs, Timestamp now) {
  double total_weight = 0;
  double score = 0;
  for (Signal s : kAllSignals) {
    const SignalSpec& spec = find_spec(specs, s);
    total_weight += spec.weight;
    const SignalResult& r = lead.result(s);
    if (r.status != SignalStatus::kFound) continue;
    double factor = 1.0;
    if (r.fetched_at && spec.freshness.count() > 0) {
      double age = std::chrono::duration<double>(now - *r.fetched_at).count();
      double window = std::chrono::duration<double>(spec.freshness).count();
      if (age > window) {
        factor = 0.5;
      } else if (age > window / 2) {
        factor = 1.0 - 0.5 * (age - window / 2) / (window / 2);
      }
    }
    score += spec.weight * factor;
  }
  if (total_weight <= 0) return 0;
  return static_cast<int>(std::lround(std::clamp(100.0 * score / total_weight, 0.0, 100.0)));
}

Json signal_value_to_json(const EnrichedLead& lead, Signal signal) {
  switch (signal) {
    case Signal::kCompanyOverview: return optional_value_json(lead.company_overview);
    case Signal::kTechStack: return optional_value_json(lead.tech_stack);
    case Signal::kFunding: return optional_value_json(lead.funding);
    case Signal::kNews: return optional_value_json(lead.news);
    case Signal::kLinkedInPosts: return optional_value_json(lead.linkedin_posts);
  }
  return Json();
}

Status set_signal_value_from_json(EnrichedLead& lead, Signal signal, const Json& value) {
  Path root("$");
  return read_signal_value(lead, signal, value, root.member(to_string(signal)));
}

Json to_json(const EnrichedLead& lead) {
  Json::Object signals;
  for (Signal s : kAllSignals) {
    signals.emplace_back(std::string(to_string(s)), result_json(lead.result(s), signal_value_to_json(lead, s)));
  }

  Json::Array run_ids;
  for (const std::string& id : lead.provider_run_ids) run_ids.emplace_back(id);

  Json::Object o;
  o.emplace_back("lead", to_json(lead.lead));
  o.emplace_back("company_key", optional_text(lead.company_key));
  o.emplace_back("person_key", optional_text(lead.person_key));
  o.emplace_back("signals", Json(std::move(signals)));
  o.emplace_back("signals_found", signal_list_json(lead.signals_found));
  o.emplace_back("signals_missed", signal_list_json(lead.signals_missed));
  o.emplace_back("quality_score", Json(lead.quality_score));
  o.emplace_back("enriched_at", lead.enriched_at ? Json(format_timestamp(*lead.enriched_at)) : Json());
  o.emplace_back("provider_run_ids", Json(std::move(run_ids)));
  o.emplace_back("billed_lookups", Json(lead.billed_lookups));
  o.emplace_back("estimated_credits", Json(lead.estimated_credits));
  o.emplace_back("sandbox", Json(lead.sandbox));
  return Json(std::move(o));
}

// ---- Streaming: to_json(lead).dump() without the tree (internal/lead_json.h) ---------------
// Keep in step with the tree builders above; output_test holds the two to the same bytes.

namespace {

// Writes one JSON object's members in order; close() ends it.
class ObjectOut {
 public:
  explicit ObjectOut(std::string& out) : out_(out) { out_.push_back('{'); }

  // Starts a member named by one of leadenrich's own keys (plain ASCII, nothing to escape) and
  // returns the text to append its value to.
  std::string& key(std::string_view k) {
    if (!first_) out_.push_back(',');
    first_ = false;
    out_.push_back('"');
    out_.append(k);
    out_.append("\":", 2);
    return out_;
  }
  // Starts a member whose key came from outside (a source's extra field): escaped.
  std::string& any_key(std::string_view k) {
    if (!first_) out_.push_back(',');
    first_ = false;
    append_json_string(out_, k);
    out_.push_back(':');
    return out_;
  }
  void null(std::string_view k) { key(k) += "null"; }
  void text(std::string_view k, std::string_view v) { append_json_string(key(k), v); }
  void maybe_text(std::string_view k, const std::optional<std::string>& v) { v ? text(k, *v) : null(k); }
  void number(std::string_view k, double v) { append_json_number(key(k), v); }
  void maybe_number(std::string_view k, const std::optional<double>& v) { v ? number(k, *v) : null(k); }
  void integer(std::string_view k, std::int64_t v) { fmt::format_to(std::back_inserter(key(k)), "{}", v); }
  void boolean(std::string_view k, bool v) { key(k) += v ? "true" : "false"; }
  void raw(std::string_view k, const Json& v) { v.dump_to(key(k)); }
  void timestamp(std::string_view k, const std::optional<Timestamp>& t) {
    t ? text(k, format_timestamp(*t)) : null(k);
  }
  void close() { out_.push_back('}'); }

 private:
  std::string& out_;
  bool first_ = true;
};

// Appends [f(item), ...]; f appends one item.
template <typename T, typename F>
void append_array(std::string& out, const std::vector<T>& items, F&& f) {
  out.push_back('[');
  bool first = true;
  for (const T& item : items) {
    if (!first) out.push_back(',');
    first = false;
    f(item);
  }
  out.push_back(']');
}

void append_range(std::string& out, const std::optional<NumberRange>& r) {
  if (!r) {
    out += "null";
    return;
  }
  ObjectOut o(out);
  o.number("min", r->min);
  o.maybe_number("max", r->max);
  o.close();
}

void append_value(std::string& out, const CompanyOverview& v) {
  ObjectOut o(out);
  o.maybe_text("description", v.description);
  o.maybe_text("industry", v.industry);
  o.maybe_text("region", v.region);
  o.raw("headcount", v.headcount);
  append_range(o.key("headcount_range"), v.headcount_range);
  o.raw("estimated_revenue", v.estimated_revenue);
  append_range(o.key("estimated_revenue_usd"), v.estimated_revenue_usd);
  o.raw("founded_year", v.founded_year);
  v.founded_year_number ? o.integer("founded_year_number", *v.founded_year_number) : o.null("founded_year_number");
  o.close();
}

void append_value(std::string& out, const TechStack& v) {
  ObjectOut o(out);
  append_array(o.key("technologies"), v.technologies, [&](const Technology& t) {
    ObjectOut item(out);
    item.text("name", t.name);
    item.maybe_text("category", t.category);
    item.close();
  });
  o.close();
}

void append_value(std::string& out, const Funding& v) {
  ObjectOut o(out);
  o.raw("total", v.total);
  o.maybe_number("total_usd", v.total_usd);
  internal::append_funding_rounds_json(o.key("rounds"), v.rounds);
  o.close();
}

void append_value(std::string& out, const News& v) {
  ObjectOut o(out);
  o.text("summary", v.summary);
  o.close();
}

void append_value(std::string& out, const LinkedInPosts& v) {
  ObjectOut o(out);
  append_array(o.key("posts"), v.posts, [&](const LinkedInPost& p) {
    ObjectOut item(out);
    item.text("text", p.text);
    item.maybe_text("posted_at", p.posted_at);
    item.maybe_text("url", p.url);
    p.reactions ? item.integer("reactions", *p.reactions) : item.null("reactions");
    item.close();
  });
  o.close();
}

template <typename T>
void append_optional_value(std::string& out, const std::optional<T>& v) {
  if (v) {
    append_value(out, *v);
  } else {
    out += "null";
  }
}

void append_signal_value(std::string& out, const EnrichedLead& lead, Signal s) {
  switch (s) {
    case Signal::kCompanyOverview: return append_optional_value(out, lead.company_overview);
    case Signal::kTechStack: return append_optional_value(out, lead.tech_stack);
    case Signal::kFunding: return append_optional_value(out, lead.funding);
    case Signal::kNews: return append_optional_value(out, lead.news);
    case Signal::kLinkedInPosts: return append_optional_value(out, lead.linkedin_posts);
  }
  out += "null";
}

void append_result(std::string& out, const EnrichedLead& lead, Signal s) {
  const SignalResult& r = lead.result(s);
  ObjectOut o(out);
  o.text("status", to_string(r.status));
  if (r.reason) {
    ObjectOut reason(o.key("reason"));
    reason.text("code", r.reason->code);
    reason.text("message", r.reason->message);
    reason.close();
  } else {
    o.null("reason");
  }
  o.text("source", r.source);
  o.timestamp("fetched_at", r.fetched_at);
  o.boolean("from_cache", r.from_cache);
  append_signal_value(o.key("value"), lead, s);
  o.close();
}

void append_raw_lead(std::string& out, const RawLead& lead) {
  ObjectOut o(out);
  for (const NamedField& f : kRawLeadFields) {
    if (f.field == nullptr) {
      o.text(f.name, lead.lead_id);
    } else {
      o.maybe_text(f.name, lead.*(f.field));
    }
  }
  for (const auto& [key, value] : lead.extra) value.dump_to(o.any_key(key));
  o.close();
}

void append_signal_list(std::string& out, const std::vector<Signal>& signals) {
  append_array(out, signals, [&](Signal s) { append_json_string(out, to_string(s)); });
}

}  // namespace

namespace internal {

void append_funding_rounds_json(std::string& out, const std::vector<FundingRound>& rounds) {
  append_array(out, rounds, [&](const FundingRound& r) {
    ObjectOut o(out);
    o.maybe_text("date", r.date);
    o.maybe_text("round_type", r.round_type);
    o.raw("amount", r.amount);
    o.maybe_number("amount_usd", r.amount_usd);
    append_array(o.key("investors"), r.investors, [&](const std::string& i) { append_json_string(out, i); });
    o.close();
  });
}

void append_lead_json(std::string& out, const EnrichedLead& lead) {
  ObjectOut o(out);
  append_raw_lead(o.key("lead"), lead.lead);
  o.maybe_text("company_key", lead.company_key);
  o.maybe_text("person_key", lead.person_key);
  {
    ObjectOut signals(o.key("signals"));
    for (Signal s : kAllSignals) append_result(signals.key(to_string(s)), lead, s);
    signals.close();
  }
  append_signal_list(o.key("signals_found"), lead.signals_found);
  append_signal_list(o.key("signals_missed"), lead.signals_missed);
  o.integer("quality_score", lead.quality_score);
  o.timestamp("enriched_at", lead.enriched_at);
  append_array(o.key("provider_run_ids"), lead.provider_run_ids, [&](const std::string& id) { append_json_string(out, id); });
  o.integer("billed_lookups", lead.billed_lookups);
  o.number("estimated_credits", lead.estimated_credits);
  o.boolean("sandbox", lead.sandbox);
  o.close();
}

}  // namespace internal

Result<EnrichedLead> enriched_lead_from_json(const Json& object) {
  ObjectReader r(object, Path("$"));
  LEADENRICH_RETURN_IF_ERROR(r.check_object());
  EnrichedLead out;
  const Json* lead = r.get("lead");
  if (lead == nullptr) return invalid_argument("$.lead: missing");
  Result<RawLead> raw = raw_lead_from_json(*lead);
  if (!raw.ok()) return raw.status();
  out.lead = std::move(raw).value();
  LEADENRICH_RETURN_IF_ERROR(r.text("company_key", out.company_key));
  LEADENRICH_RETURN_IF_ERROR(r.text("person_key", out.person_key));

  if (const Json* signals = r.get("signals")) {
    ObjectReader sr(*signals, r.path().member("signals"));
    LEADENRICH_RETURN_IF_ERROR(sr.check_object());
    for (Signal s : kAllSignals) {
      const Json* sj = sr.get(to_string(s));
      if (sj == nullptr) continue;  // unknown or absent signals are ignored
      ObjectReader one(*sj, sr.path().member(to_string(s)));
      LEADENRICH_RETURN_IF_ERROR(one.check_object());
      SignalResult& res = out.result(s);
      std::optional<std::string> status, source, fetched_at;
      LEADENRICH_RETURN_IF_ERROR(one.text("status", status));
      if (status) {
        Result<SignalStatus> st = parse_signal_status(*status);
        if (!st.ok()) return invalid_argument(fmt::format("{}: {}", one.at("status"), st.status().message()));
        res.status = *st;
      }
      if (const Json* reason = one.get("reason")) {
        ObjectReader rr(*reason, one.path().member("reason"));
        LEADENRICH_RETURN_IF_ERROR(rr.check_object());
        std::optional<std::string> code, message;
        LEADENRICH_RETURN_IF_ERROR(rr.text("code", code));
        LEADENRICH_RETURN_IF_ERROR(rr.text("message", message));
        res.reason = Reason{code.value_or(""), message.value_or("")};
      }
      LEADENRICH_RETURN_IF_ERROR(one.text("source", source));
      res.source = source.value_or("");
      LEADENRICH_RETURN_IF_ERROR(one.text("fetched_at", fetched_at));
      if (fetched_at) {
        Result<Timestamp> t = parse_timestamp(*fetched_at);
        if (!t.ok()) return invalid_argument(fmt::format("{}: {}", one.at("fetched_at"), t.status().message()));
        res.fetched_at = *t;
      }
      if (const Json* fc = one.get("from_cache")) res.from_cache = fc->is_bool() && fc->as_bool();
      LEADENRICH_RETURN_IF_ERROR(read_signal_value(out, s, one.raw("value"), one.path().member("value")));
    }
  }

  auto found = read_signal_list(r, "signals_found");
  if (!found.ok()) return found.status();
  out.signals_found = std::move(found).value();
  auto missed = read_signal_list(r, "signals_missed");
  if (!missed.ok()) return missed.status();
  out.signals_missed = std::move(missed).value();

  std::optional<double> score, billed, credits;
  LEADENRICH_RETURN_IF_ERROR(r.number("quality_score", score));
  out.quality_score = static_cast<int>(score.value_or(0));
  std::optional<std::string> enriched_at;
  LEADENRICH_RETURN_IF_ERROR(r.text("enriched_at", enriched_at));
  if (enriched_at) {
    Result<Timestamp> t = parse_timestamp(*enriched_at);
    if (!t.ok()) return invalid_argument(fmt::format("$.enriched_at: {}", t.status().message()));
    out.enriched_at = *t;
  }
  LEADENRICH_RETURN_IF_ERROR(for_each_item(r, "provider_run_ids", [&](const Json& item, const Path& path) -> Status {
    Result<std::optional<std::string>> t = scalar_text(item, [&] { return path.str(); });
    if (!t.ok()) return t.status();
    if (*t) out.provider_run_ids.push_back(**t);
    return {};
  }));
  LEADENRICH_RETURN_IF_ERROR(r.number("billed_lookups", billed));
  out.billed_lookups = static_cast<int>(billed.value_or(0));
  LEADENRICH_RETURN_IF_ERROR(r.number("estimated_credits", credits));
  out.estimated_credits = credits.value_or(0);
  if (const Json* sb = r.get("sandbox")) out.sandbox = sb->is_bool() && sb->as_bool();
  return out;
}

Result<EnrichedLead> parse_enriched_lead(std::string_view text) {
  Result<Json> j = Json::parse(text);
  if (!j.ok()) return j.status();
  return enriched_lead_from_json(*j);
}

}  // namespace leadenrich
