// The news signal: a markdown summary of a company's recent news (pipe0's
// company:newssummary:website pipe).
#include "signals/provider_values.h"
#include "signals/signal_codec.h"

namespace leadenrich {

using namespace std::chrono_literals;

std::optional<News> read_news(const SignalSpec& spec, const Json::Object& fields) {
  using internal::text_of;
  const Json* v = internal::role_value(spec, fields, "summary");
  if (v == nullptr) return std::nullopt;
  if (auto t = text_of(*v)) return News{std::move(*t)};
  Json list = internal::unwrap_list(*v);
  if (!list.is_array()) return std::nullopt;
  std::string md;
  for (const Json& item : list.as_array()) {
    std::optional<std::string> line;
    if (item.is_object()) {
      if (const Json* t = internal::member(item, {"headline", "title", "summary", "text"})) line = text_of(*t);
    } else {
      line = text_of(item);
    }
    if (line) md += "- " + *line + "\n";
  }
  if (md.empty()) return std::nullopt;
  return News{std::move(md)};
}

namespace internal {
namespace {

Json to_json(const News& v) {
  Json::Object o;
  o.emplace_back("summary", Json(v.summary));
  return Json(std::move(o));
}

void append_json(std::string& out, const News& v) {
  ObjectOut o(out);
  o.text("summary", v.summary);
  o.close();
}

Result<News> from_json(const ObjectReader& r) {
  std::optional<std::string> summary;
  LEADENRICH_RETURN_IF_ERROR(r.text("summary", summary));
  return News{summary.value_or("")};
}

void csv_cells(const News* v, CsvRow& row) { row.text(v ? std::string_view(v->summary) : std::string_view()); }

constexpr std::string_view kSchema = R"json({
        "type": "object",
        "properties": {"summary": {"type": "string", "description": "markdown"}}
      })json";

}  // namespace

const SignalCodec& news_codec() {
  static const TypedSignalCodec<News> kCodec({
      .signal = Signal::kNews,
      .slot = &EnrichedLead::news,
      .spec = {.signal = Signal::kNews,
               .pipe_id = "company:newssummary:website@1",
               .level = SignalLevel::kCompany,
               .required_inputs = {"company_website_url"},
               .outputs = {{"summary", {"company_news_summary", "news_summary"}}},
               .freshness = 24h,
               .no_result_freshness = 12h,
               .credits_per_lookup = 1.0,
               .weight = 20},
      .read = read_news,
      .to_json = to_json,
      .append_json = append_json,
      .from_json = from_json,
      .csv_columns = {"news_summary"},
      .csv_cells = csv_cells,
      .schema_name = "News",
      .value_schema = kSchema,
  });
  return kCodec;
}

}  // namespace internal
}  // namespace leadenrich
