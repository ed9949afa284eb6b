// The company_overview signal: what a company does, where, how big and how old (pipe0's
// company:overview pipe).
#include "signals/provider_values.h"
#include "signals/signal_codec.h"

namespace leadenrich {

using namespace std::chrono_literals;

std::optional<CompanyOverview> read_company_overview(const SignalSpec& spec, const Json::Object& fields) {
  using internal::role_value;
  CompanyOverview o;
  bool any = false;
  auto text_role = [&](std::string_view role, std::optional<std::string>& out) {
    if (const Json* v = role_value(spec, fields, role)) {
      out = internal::text_of(*v);
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
    o.founded_year_number = internal::year_of(*v);
    any = true;
  }
  if (!any) return std::nullopt;
  return o;
}

namespace internal {
namespace {

Json to_json(const CompanyOverview& v) {
  Json::Object o;
  o.emplace_back("description", optional_text(v.description));
  o.emplace_back("industry", optional_text(v.industry));
  o.emplace_back("region", optional_text(v.region));
  o.emplace_back("headcount", v.headcount);
  o.emplace_back("headcount_range", range_json(v.headcount_range));
  o.emplace_back("estimated_revenue", v.estimated_revenue);
  o.emplace_back("estimated_revenue_usd", range_json(v.estimated_revenue_usd));
  o.emplace_back("founded_year", v.founded_year);
  o.emplace_back("founded_year_number", v.founded_year_number ? Json(*v.founded_year_number) : Json());
  return Json(std::move(o));
}

void append_json(std::string& out, const CompanyOverview& v) {
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

Result<CompanyOverview> from_json(const ObjectReader& r) {
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

void csv_cells(const CompanyOverview* o, CsvRow& row) {
  if (o == nullptr) return row.blank(8);
  row.text(o->description);
  row.text(o->industry);
  row.text(o->region);
  row.build([&](std::string& c) { append_value_cell(c, o->headcount); });
  row.build([&](std::string& c) { if (o->headcount_range) append_json_number(c, o->headcount_range->min); });
  row.build([&](std::string& c) { if (o->headcount_range) append_number_cell(c, o->headcount_range->max); });
  row.build([&](std::string& c) {
    if (o->founded_year_number) {
      fmt::format_to(std::back_inserter(c), "{}", *o->founded_year_number);
    } else {
      append_value_cell(c, o->founded_year);
    }
  });
  row.build([&](std::string& c) { append_value_cell(c, o->estimated_revenue); });
}

constexpr std::string_view kSchema = R"json({
        "type": "object",
        "properties": {
          "description": {"type": "string", "nullable": true},
          "industry": {"type": "string", "nullable": true},
          "region": {"type": "string", "nullable": true},
          "headcount": {"nullable": true, "description": "as the provider sent it: 250 or \"201-500\""},
          "headcount_range": {"$ref": "#/components/schemas/NumberRange"},
          "estimated_revenue": {"nullable": true, "description": "as the provider sent it"},
          "estimated_revenue_usd": {"$ref": "#/components/schemas/NumberRange"},
          "founded_year": {"nullable": true, "description": "as the provider sent it"},
          "founded_year_number": {"type": "integer", "nullable": true}
        }
      })json";

}  // namespace

const SignalCodec& company_overview_codec() {
  static const TypedSignalCodec<CompanyOverview> kCodec({
      .signal = Signal::kCompanyOverview,
      .slot = &EnrichedLead::company_overview,
      .spec = {.signal = Signal::kCompanyOverview,
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
               .weight = 30},
      .read = read_company_overview,
      .to_json = to_json,
      .append_json = append_json,
      .from_json = from_json,
      .csv_columns = {"company_description", "company_industry", "company_region", "headcount", "headcount_min",
                      "headcount_max", "founded_year", "estimated_revenue"},
      .csv_cells = csv_cells,
      .schema_name = "CompanyOverview",
      .value_schema = kSchema,
  });
  return kCodec;
}

}  // namespace internal
}  // namespace leadenrich
