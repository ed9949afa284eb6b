// The table of signals (src/signals/) is complete and each codec agrees with itself: a signal
// added to the table and left out anywhere — its JSON, CSV, OpenAPI, the web UI's label, the
// Python stub — fails here.
#include "signals/signal_codec.h"

#include <fstream>
#include <set>
#include <sstream>

#include <doctest/doctest.h>

#include "internal/openapi.h"
#include "leadenrich/output.h"

using namespace leadenrich;
using internal::signal_codec;
using internal::signal_codecs;

namespace {

std::string source_file(const std::string& relative) {
  std::ifstream in(std::string(LEADENRICH_TEST_DATA_DIR) + "/../../" + relative, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), relative);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// What pipe0 might send for the signal: every output field of its spec carrying the same plain
// text (which every signal's lenient reader accepts as a value).
Json::Object sample_fields(const SignalSpec& spec) {
  Json::Object fields;
  for (const OutputField& out : spec.outputs) fields.emplace_back(out.names.front(), Json("2015"));
  return fields;
}

std::vector<std::string> cells_of(const internal::SignalCodec& codec, const EnrichedLead& lead) {
  std::vector<std::string> cells;
  std::string scratch;
  auto emit = [](void* context, std::string_view cell) {
    static_cast<std::vector<std::string>*>(context)->emplace_back(cell);
  };
  internal::CsvRow row(scratch, emit, &cells);
  codec.csv_cells(lead, row);
  return cells;
}

}  // namespace

TEST_CASE("the table has one codec per signal, in Signal order, named as the signal") {
  REQUIRE(signal_codecs().size() == kSignalCount);
  std::set<std::string_view> schema_names;
  for (Signal s : kAllSignals) {
    const internal::SignalCodec& codec = *signal_codecs()[static_cast<std::size_t>(s)];
    CAPTURE(to_string(s));
    CHECK(codec.signal() == s);
    CHECK(codec.name() == to_string(s));
    CHECK(parse_signal(codec.name()).value() == s);
    CHECK(codec.default_spec().signal == s);
    CHECK(default_signal_specs()[static_cast<std::size_t>(s)].pipe_id == codec.default_spec().pipe_id);
    CHECK_FALSE(codec.default_spec().outputs.empty());
    CHECK_FALSE(codec.csv_columns().empty());
    CHECK(schema_names.insert(codec.schema_name()).second);
  }
}

TEST_CASE("each codec reads, writes and reads back its own value, and always fills its CSV columns") {
  for (const internal::SignalCodec* codec : signal_codecs()) {
    CAPTURE(codec->name());
    EnrichedLead lead;
    // No value: null in JSON, empty cells.
    CHECK(codec->value_json(lead).is_null());
    std::string text;
    codec->append_value_json(text, lead);
    CHECK(text == "null");
    std::vector<std::string> empty = cells_of(*codec, lead);
    CHECK(empty.size() == codec->csv_columns().size());
    for (const std::string& cell : empty) CHECK(cell.empty());

    // A value from pipe0's fields lands in the lead as this signal's, and nowhere else.
    internal::SignalValue value = codec->read(codec->default_spec(), sample_fields(codec->default_spec()));
    REQUIRE(value.index() == static_cast<std::size_t>(codec->signal()) + 1);
    codec->apply(lead, value);
    Json json = codec->value_json(lead);
    REQUIRE(json.is_object());
    CHECK(codec->value_json(value).dump() == json.dump());
    for (const internal::SignalCodec* other : signal_codecs()) {
      if (other != codec) CHECK(other->value_json(lead).is_null());
    }
    text.clear();
    codec->append_value_json(text, lead);
    CHECK(text == json.dump());
    CHECK(cells_of(*codec, lead).size() == codec->csv_columns().size());

    EnrichedLead back;
    REQUIRE(codec->read_value_json(back, json, internal::Path("$")).ok());
    CHECK(back == lead);
    CHECK(codec->take(back).index() == value.index());
    CHECK(codec->read_value_json(back, Json(Json::Array{}), internal::Path("$")).message().find("expected an object") !=
          std::string::npos);
  }
}

TEST_CASE("the CSV header has each signal's status and columns, every name once") {
  const std::vector<std::string_view>& columns = csv_columns();
  std::set<std::string_view> unique(columns.begin(), columns.end());
  CHECK(unique.size() == columns.size());
  for (const internal::SignalCodec* codec : signal_codecs()) {
    CHECK(unique.count(std::string(codec->name()) + "_status") == 1);
    for (std::string_view column : codec->csv_columns()) CHECK(unique.count(column) == 1);
  }
  EnrichedLead lead;
  lead.lead.lead_id = "l1";
  CHECK(csv_cells(lead).size() == columns.size());
}

TEST_CASE("the OpenAPI document describes every signal's entry and the members of its value") {
  Result<Json> doc = Json::parse(internal::openapi_document());
  REQUIRE(doc.ok());
  const Json* schemas = doc->find("components")->find("schemas");
  const Json* signals = schemas->find("EnrichedLead")->find("properties")->find("signals")->find("properties");
  REQUIRE(signals != nullptr);
  REQUIRE(signals->as_object().size() == kSignalCount);
  for (std::size_t i = 0; i < kSignalCount; ++i) {
    const internal::SignalCodec& codec = *signal_codecs()[i];
    CHECK(signals->as_object()[i].first == codec.name());
    const Json* value = schemas->find(codec.schema_name());
    REQUIRE(value != nullptr);
    const Json* properties = value->find("properties");
    REQUIRE(properties != nullptr);

    // The schema names exactly the members the value is written with, in order.
    EnrichedLead lead;
    codec.apply(lead, codec.read(codec.default_spec(), sample_fields(codec.default_spec())));
    std::vector<std::string> written, documented;
    Json json = codec.value_json(lead);
    for (const auto& [key, v] : json.as_object()) written.push_back(key);
    for (const auto& [key, v] : properties->as_object()) documented.push_back(key);
    CHECK(written == documented);
  }
}

TEST_CASE("the web UI labels and the Python stub name every signal") {
  std::string api_ts = source_file("web/src/api.ts");
  std::string stub = source_file("bindings/python/leadenrich/__init__.pyi");
  for (const internal::SignalCodec* codec : signal_codecs()) {
    CAPTURE(codec->name());
    CHECK(api_ts.find(fmt::format("\n  {}: \"", codec->name())) != std::string::npos);
    CHECK(stub.find(fmt::format("def {}(self) -> Optional[Dict[str, Any]]", codec->name())) != std::string::npos);
  }
}
