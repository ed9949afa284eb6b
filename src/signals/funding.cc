// The funding signal: what a company has raised, round by round (pipe0's
// company:funding:leadmagic pipe).
#include "signals/provider_values.h"
#include "signals/signal_codec.h"

namespace leadenrich {

using namespace std::chrono_literals;

std::optional<Funding> read_funding(const SignalSpec& spec, const Json::Object& fields) {
  using internal::member;
  using internal::text_of;
  Funding f;
  if (const Json* v = internal::role_value(spec, fields, "total")) {
    f.total = *v;
    if (auto r = parse_number_range(*v)) f.total_usd = r->min;
  }
  if (const Json* v = internal::role_value(spec, fields, "rounds")) {
    Json list = internal::unwrap_list(*v);
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
          r.investors = internal::names_of(*inv);
        if (r.date || r.round_type || !r.amount.is_null() || !r.investors.empty()) f.rounds.push_back(std::move(r));
      }
    }
  }
  if (f.total.is_null() && f.rounds.empty()) return std::nullopt;
  return f;
}

namespace internal {
namespace {

Json to_json(const Funding& v) {
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

// The "rounds" member, dumped: in the JSON value and, as it is, in the funding_rounds CSV cell.
void append_rounds_json(std::string& out, const std::vector<FundingRound>& rounds) {
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

void append_json(std::string& out, const Funding& v) {
  ObjectOut o(out);
  o.raw("total", v.total);
  o.maybe_number("total_usd", v.total_usd);
  append_rounds_json(o.key("rounds"), v.rounds);
  o.close();
}

Result<Funding> from_json(const ObjectReader& r) {
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

void csv_cells(const Funding* v, CsvRow& row) {
  if (v == nullptr) return row.blank(2);
  row.build([&](std::string& c) { append_number_cell(c, v->total_usd); });
  row.build([&](std::string& c) { append_rounds_json(c, v->rounds); });
}

constexpr std::string_view kSchema = R"json({
        "type": "object",
        "properties": {
          "total": {"nullable": true, "description": "as the provider sent it"},
          "total_usd": {"type": "number", "nullable": true},
          "rounds": {"type": "array", "items": {"type": "object", "properties": {
            "date": {"type": "string", "nullable": true},
            "round_type": {"type": "string", "nullable": true},
            "amount": {"nullable": true, "description": "as the provider sent it"},
            "amount_usd": {"type": "number", "nullable": true},
            "investors": {"type": "array", "items": {"type": "string"}}}}}
        }
      })json";

}  // namespace

const SignalCodec& funding_codec() {
  static const TypedSignalCodec<Funding> kCodec({
      .signal = Signal::kFunding,
      .slot = &EnrichedLead::funding,
      .spec = {.signal = Signal::kFunding,
               .pipe_id = "company:funding:leadmagic@1",
               .level = SignalLevel::kCompany,
               .required_inputs = {"company_website_url"},
               .outputs = {{"total", {"funding_total_usd", "total_funding_usd", "total_funding"}},
                           {"rounds", {"funding_history", "funding_rounds"}}},
               .freshness = 14 * 24h,
               .no_result_freshness = 3 * 24h,
               .credits_per_lookup = 2.0,
               .weight = 15},
      .read = read_funding,
      .to_json = to_json,
      .append_json = append_json,
      .from_json = from_json,
      .csv_columns = {"funding_total_usd", "funding_rounds"},
      .csv_cells = csv_cells,
      .schema_name = "Funding",
      .value_schema = kSchema,
  });
  return kCodec;
}

}  // namespace internal
}  // namespace leadenrich
