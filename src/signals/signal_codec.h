// A signal's codec: everything leadenrich does with one signal's value — read it from pipe0's
// fields, write it to and read it from JSON, write its CSV cells, describe it in OpenAPI — in
// one place, src/signals/<name>.cc, registered in the table (signal_table.h). Outside those
// files, code iterates signal_codecs() and never names a signal.
#ifndef LEADENRICH_SIGNALS_SIGNAL_CODEC_H_
#define LEADENRICH_SIGNALS_SIGNAL_CODEC_H_

#include <array>
#include <cstddef>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "leadenrich/json.h"
#include "leadenrich/lead.h"
#include "leadenrich/signals.h"
#include "leadenrich/status.h"
#include "signals/signal_table.h"
#include "signals/value_json.h"

namespace leadenrich::internal {

// ---- CSV cells ----

/// Where a lead's CSV cells go, one at a time, in csv_columns() order. One scratch string is
/// reused for every cell built, so writing a row builds nothing per lead.
class CsvRow {
 public:
  using Emit = void (*)(void* context, std::string_view cell);
  CsvRow(std::string& scratch, Emit emit, void* context) : scratch_(scratch), emit_(emit), context_(context) {}

  void text(std::string_view cell) { emit_(context_, cell); }
  void text(const std::string& cell) { text(std::string_view(cell)); }
  void text(const std::optional<std::string>& cell) { text(cell ? std::string_view(*cell) : std::string_view()); }
  /// `n` empty cells: the columns of a value the lead does not have.
  void blank(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) text(std::string_view());
  }
  /// Builds a cell with `fill` (which appends to an empty string), then emits it.
  template <typename Fill>
  void build(Fill&& fill) {
    scratch_.clear();
    fill(scratch_);
    emit_(context_, scratch_);
  }

 private:
  std::string& scratch_;
  Emit emit_;
  void* context_;
};

/// A Json value as a cell: strings and numbers as their text, other values as JSON.
inline void append_value_cell(std::string& cell, const Json& v) {
  switch (v.type()) {
    case Json::Type::kNull: break;
    case Json::Type::kString: cell += v.as_string(); break;
    case Json::Type::kNumber: cell += v.number_text(); break;
    default: v.dump_to(cell);
  }
}

inline void append_number_cell(std::string& cell, const std::optional<double>& d) {
  if (d) append_json_number(cell, *d);
}

/// Appends the items joined with "; " to an empty cell. As it always has, the separator goes in
/// only once the cell has text, so empty leading items leave no trace.
template <typename T, typename F>
void append_joined(std::string& cell, const std::vector<T>& items, F&& text_of) {
  for (const T& item : items) {
    if (!cell.empty()) cell += "; ";
    cell += text_of(item);
  }
}

// ---- the codec ----

/// One signal's codec, type-erased so the rest of leadenrich can iterate the table.
class SignalCodec {
 public:
  virtual ~SignalCodec() = default;

  virtual Signal signal() const = 0;
  /// "company_overview": the JSON key, the CSV prefix, the Python attribute.
  virtual std::string_view name() const = 0;
  /// The contract's defaults (pipe, inputs, output field names, freshness, price, weight).
  virtual const SignalSpec& default_spec() const = 0;

  /// The typed value read from pipe0's completed output fields; none when nothing usable came.
  virtual SignalValue read(const SignalSpec& spec, const Json::Object& completed) const = 0;

  /// The lead's value as JSON (the "value" member of the signal's entry), null when it has none.
  virtual Json value_json(const EnrichedLead& lead) const = 0;
  /// The same for a value merge built (none: null).
  virtual Json value_json(const SignalValue& value) const = 0;
  /// Appends value_json(lead).dump() without building the tree.
  virtual void append_value_json(std::string& out, const EnrichedLead& lead) const = 0;
  /// Sets (or, for null, clears) the lead's value from what value_json wrote; kInvalidArgument
  /// naming the path when it does not fit.
  virtual Status read_value_json(EnrichedLead& lead, const Json& value, const Path& path) const = 0;

  /// Sets the lead's value from a SignalValue of this signal (none leaves it as it is).
  virtual void apply(EnrichedLead& lead, const SignalValue& value) const = 0;
  virtual void apply(EnrichedLead& lead, SignalValue&& value) const = 0;
  /// Moves the lead's value out (none if it has none).
  virtual SignalValue take(EnrichedLead& lead) const = 0;

  /// This signal's CSV columns, after the fixed ones and the statuses (docs/output.md).
  virtual std::span<const std::string_view> csv_columns() const = 0;
  /// Emits exactly csv_columns().size() cells: the value's, or empty ones when the lead has none.
  virtual void csv_cells(const EnrichedLead& lead, CsvRow& row) const = 0;

  /// The value type's name in the OpenAPI document ("CompanyOverview").
  virtual std::string_view schema_name() const = 0;
  /// The value's OpenAPI 3.0 schema, as JSON text.
  virtual std::string_view value_schema() const = 0;
};

/// What a signal's file writes: its value type's functions. make_signal_codec turns it into the
/// table's SignalCodec.
template <typename T>
struct ValueCodec {
  Signal signal;
  std::optional<T> EnrichedLead::*slot;  ///< the member holding the value
  SignalSpec spec;                        ///< the contract's defaults
  std::optional<T> (*read)(const SignalSpec&, const Json::Object&);
  Json (*to_json)(const T&);
  void (*append_json)(std::string&, const T&);  ///< the same bytes as to_json(v).dump()
  Result<T> (*from_json)(const ObjectReader&);
  std::vector<std::string_view> csv_columns;
  void (*csv_cells)(const T* value, CsvRow& row);  ///< value is null when the lead has none
  std::string_view schema_name;
  std::string_view value_schema;
};

template <typename T>
class TypedSignalCodec final : public SignalCodec {
 public:
  explicit TypedSignalCodec(ValueCodec<T> c) : c_(std::move(c)) {}

  Signal signal() const override { return c_.signal; }
  std::string_view name() const override { return kSignalNames[static_cast<std::size_t>(c_.signal)]; }
  const SignalSpec& default_spec() const override { return c_.spec; }

  SignalValue read(const SignalSpec& spec, const Json::Object& completed) const override {
    std::optional<T> v = c_.read(spec, completed);
    if (!v) return {};
    return SignalValue(std::in_place_type<T>, std::move(*v));
  }

  Json value_json(const EnrichedLead& lead) const override {
    const std::optional<T>& v = lead.*c_.slot;
    return v ? c_.to_json(*v) : Json();
  }
  Json value_json(const SignalValue& value) const override {
    const T* v = std::get_if<T>(&value);
    return v ? c_.to_json(*v) : Json();
  }
  void append_value_json(std::string& out, const EnrichedLead& lead) const override {
    const std::optional<T>& v = lead.*c_.slot;
    if (v) {
      c_.append_json(out, *v);
    } else {
      out += "null";
    }
  }
  Status read_value_json(EnrichedLead& lead, const Json& value, const Path& path) const override {
    std::optional<T>& out = lead.*c_.slot;
    out.reset();
    if (value.is_null()) return {};
    ObjectReader vr(value, path);
    LEADENRICH_RETURN_IF_ERROR(vr.check_object());
    Result<T> v = c_.from_json(vr);
    if (!v.ok()) return v.status();
    out = std::move(v).value();
    return {};
  }

  void apply(EnrichedLead& lead, const SignalValue& value) const override {
    if (const T* v = std::get_if<T>(&value)) lead.*c_.slot = *v;
  }
  void apply(EnrichedLead& lead, SignalValue&& value) const override {
    if (T* v = std::get_if<T>(&value)) lead.*c_.slot = std::move(*v);
  }
  SignalValue take(EnrichedLead& lead) const override {
    std::optional<T>& v = lead.*c_.slot;
    if (!v) return {};
    return SignalValue(std::in_place_type<T>, std::move(*v));
  }

  std::span<const std::string_view> csv_columns() const override { return c_.csv_columns; }
  void csv_cells(const EnrichedLead& lead, CsvRow& row) const override {
    const std::optional<T>& v = lead.*c_.slot;
    c_.csv_cells(v ? &*v : nullptr, row);
  }

  std::string_view schema_name() const override { return c_.schema_name; }
  std::string_view value_schema() const override { return c_.value_schema; }

 private:
  ValueCodec<T> c_;
};

// Each signal's file defines its codec (company_overview_codec(), ...).
#define LEADENRICH_SIGNAL_CODEC_DECLARATION(e, T, n) const SignalCodec& n##_codec();
LEADENRICH_SIGNAL_TABLE(LEADENRICH_SIGNAL_CODEC_DECLARATION)
#undef LEADENRICH_SIGNAL_CODEC_DECLARATION

/// Every signal's codec, in Signal order.
const std::array<const SignalCodec*, kSignalCount>& signal_codecs();
inline const SignalCodec& signal_codec(Signal s) { return *signal_codecs()[static_cast<std::size_t>(s)]; }

}  // namespace leadenrich::internal

// Declarations that were public once keep the leadenrich namespace (not installed; unit tests
// may include this header).
namespace leadenrich {

/// Lenient readers from provider values (a field name -> value lookup per signal). Each returns
/// nullopt when no field carried anything usable; odd types are tolerated, never fatal.
/// `fields` holds pipe0 output values by field name.
std::optional<CompanyOverview> read_company_overview(const SignalSpec& spec, const Json::Object& fields);
std::optional<TechStack> read_tech_stack(const SignalSpec& spec, const Json::Object& fields);
std::optional<Funding> read_funding(const SignalSpec& spec, const Json::Object& fields);
std::optional<News> read_news(const SignalSpec& spec, const Json::Object& fields);
std::optional<LinkedInPosts> read_linkedin_posts(const SignalSpec& spec, const Json::Object& fields);

/// One signal's typed value as JSON (the "value" member of to_json's signal entry), or null
/// when the lead has no value for it. Used to cache values.
Json signal_value_to_json(const EnrichedLead& lead, Signal signal);

/// Sets (or, for null, clears) one signal's typed value from what signal_value_to_json wrote.
/// Returns kInvalidArgument naming the path when the JSON does not fit the signal's type.
Status set_signal_value_from_json(EnrichedLead& lead, Signal signal, const Json& value);

}  // namespace leadenrich

#endif  // LEADENRICH_SIGNALS_SIGNAL_CODEC_H_
