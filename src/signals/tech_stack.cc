// The tech_stack signal: the technologies a company's website uses (pipe0's
// company:techstack:builtwith pipe).
#include "signals/provider_values.h"
#include "signals/signal_codec.h"

namespace leadenrich {

using namespace std::chrono_literals;

std::optional<TechStack> read_tech_stack(const SignalSpec& spec, const Json::Object& fields) {
  using internal::member;
  using internal::text_of;
  const Json* v = internal::role_value(spec, fields, "technologies");
  if (v == nullptr) return std::nullopt;
  TechStack stack;
  auto add = [&](std::string name, std::optional<std::string> category) {
    for (const Technology& t : stack.technologies) {
      if (internal::lower(t.name) == internal::lower(name)) return;
    }
    stack.technologies.push_back(Technology{std::move(name), std::move(category)});
  };
  Json list = internal::unwrap_list(*v);
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
    for (std::string& n : internal::names_of(list)) add(std::move(n), std::nullopt);
  }
  if (stack.technologies.empty()) return std::nullopt;
  return stack;
}

namespace internal {
namespace {

Json to_json(const TechStack& v) {
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

void append_json(std::string& out, const TechStack& v) {
  ObjectOut o(out);
  append_array(o.key("technologies"), v.technologies, [&](const Technology& t) {
    ObjectOut item(out);
    item.text("name", t.name);
    item.maybe_text("category", t.category);
    item.close();
  });
  o.close();
}

Result<TechStack> from_json(const ObjectReader& r) {
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

void csv_cells(const TechStack* v, CsvRow& row) {
  row.build([&](std::string& c) {
    if (v) append_joined(c, v->technologies, [](const Technology& t) -> const std::string& { return t.name; });
  });
}

constexpr std::string_view kSchema = R"json({
        "type": "object",
        "properties": {
          "technologies": {"type": "array", "items": {"type": "object", "properties": {
            "name": {"type": "string"}, "category": {"type": "string", "nullable": true}}}}
        }
      })json";

}  // namespace

const SignalCodec& tech_stack_codec() {
  static const TypedSignalCodec<TechStack> kCodec({
      .signal = Signal::kTechStack,
      .slot = &EnrichedLead::tech_stack,
      .spec = {.signal = Signal::kTechStack,
               .pipe_id = "company:techstack:builtwith@1",
               .level = SignalLevel::kCompany,
               .required_inputs = {"company_website_url"},
               .outputs = {{"technologies", {"technology_stack", "technology_list"}}},
               .freshness = 30 * 24h,
               .no_result_freshness = 7 * 24h,
               .credits_per_lookup = 1.0,
               .weight = 15},
      .read = read_tech_stack,
      .to_json = to_json,
      .append_json = append_json,
      .from_json = from_json,
      .csv_columns = {"technologies"},
      .csv_cells = csv_cells,
      .schema_name = "TechStack",
      .value_schema = kSchema,
  });
  return kCodec;
}

}  // namespace internal
}  // namespace leadenrich
