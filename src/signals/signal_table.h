// The table of signals: the one list every part of leadenrich iterates instead of naming
// signals. Each line is a signal's enumerator (leadenrich/signals.h), the type of its value
// (leadenrich/signals.h) and its name, which is also the EnrichedLead member holding the value
// and the file in src/signals/ that holds its codec (signal_codec.h).
//
// Adding a signal: its enumerator, value type and EnrichedLead member (the public C++ API has
// to name them), its file in src/signals/, and one line here; then the web UI's label
// (web/src/api.ts) and the Python stub's property (leadenrich/__init__.pyi). signal_table_test
// fails until every one of them is there.
#ifndef LEADENRICH_SIGNALS_SIGNAL_TABLE_H_
#define LEADENRICH_SIGNALS_SIGNAL_TABLE_H_

#include <array>
#include <string_view>
#include <variant>

#include "leadenrich/signals.h"

// X(enumerator, value type, name), in Signal order.
#define LEADENRICH_SIGNAL_TABLE(X)                       \
  X(kCompanyOverview, CompanyOverview, company_overview) \
  X(kTechStack, TechStack, tech_stack)                   \
  X(kFunding, Funding, funding)                          \
  X(kNews, News, news)                                   \
  X(kLinkedInPosts, LinkedInPosts, linkedin_posts)

namespace leadenrich::internal {

#define LEADENRICH_SIGNAL_VALUE_TYPE(e, T, n) , T
/// One signal's typed value as the parser built it, or none (monostate): alternative i + 1 is
/// the value of Signal i. Travels from merge to every lead that shares the lookup without a
/// JSON round trip.
using SignalValue = std::variant<std::monostate LEADENRICH_SIGNAL_TABLE(LEADENRICH_SIGNAL_VALUE_TYPE)>;
#undef LEADENRICH_SIGNAL_VALUE_TYPE

#define LEADENRICH_SIGNAL_NAME(e, T, n) std::string_view(#n),
/// The signals' names, in Signal order.
inline constexpr std::array<std::string_view, kSignalCount> kSignalNames = {LEADENRICH_SIGNAL_TABLE(LEADENRICH_SIGNAL_NAME)};
#undef LEADENRICH_SIGNAL_NAME

#define LEADENRICH_SIGNAL_ENUMERATOR(e, T, n) Signal::e,
// The table is complete and in Signal order, so alternative i + 1 and name i belong to Signal i.
inline constexpr std::array<Signal, kSignalCount> kTableOrder = {LEADENRICH_SIGNAL_TABLE(LEADENRICH_SIGNAL_ENUMERATOR)};
#undef LEADENRICH_SIGNAL_ENUMERATOR
static_assert(std::variant_size_v<SignalValue> == kSignalCount + 1, "one table line per Signal enumerator");
static_assert(kTableOrder == kAllSignals, "the table lists the signals in Signal order");

}  // namespace leadenrich::internal

#endif  // LEADENRICH_SIGNALS_SIGNAL_TABLE_H_
