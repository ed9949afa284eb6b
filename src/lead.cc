#include "leadenrich/lead.h"

#include <algorithm>
#include <cmath>
#include <iterator>

#include <fmt/format.h>

#include "internal/json_members.h"
#include "internal/json_write.h"
#include "internal/lead_json.h"
#include "signals/signal_codec.h"
#include "signals/value_json.h"

namespace leadenrich {
namespace {

using internal::append_array;
using internal::for_each_item;
using internal::ObjectOut;
using internal::ObjectReader;
using internal::optional_text;
using internal::Path;
using internal::scalar_text;

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

Status read_signal_value(EnrichedLead& lead, Signal s, const Json& value, const Path& path) {
  return internal::signal_codec(s).read_value_json(lead, value, path);
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
  return internal::signal_codec(signal).value_json(lead);
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
// Keep in step with the tree builders above (a signal's value: its codec, src/signals/); output_test
// holds the two to the same bytes.

namespace {

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
  internal::signal_codec(s).append_value_json(o.key("value"), lead);
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
