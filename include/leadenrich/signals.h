// The enrichment signals: what each one is (described by data, not code), its typed value,
// and the per-signal outcome carried on every enriched lead.
#ifndef LEADENRICH_SIGNALS_H_
#define LEADENRICH_SIGNALS_H_

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "leadenrich/json.h"
#include "leadenrich/status.h"

namespace leadenrich {

/// Milliseconds since the Unix epoch, UTC.
using Timestamp = std::chrono::sys_time<std::chrono::milliseconds>;

/// "2026-11-25T02:00:00.123Z" (milliseconds shown only when non-zero).
std::string format_timestamp(Timestamp t);
/// Parses ISO-8601 date-times ("2026-11-25T02:00:00Z", with fraction or ±hh:mm offset) and
/// plain dates ("2026-11-25"). Returns kInvalidArgument naming the text otherwise.
Result<Timestamp> parse_timestamp(std::string_view text);

enum class Signal : std::uint8_t {
  kCompanyOverview = 0,
  kTechStack,
  kFunding,
  kNews,
  kLinkedInPosts,
};
inline constexpr std::size_t kSignalCount = 5;
/// Every signal, in enumerator order.
inline constexpr std::array<Signal, kSignalCount> kAllSignals = [] {
  std::array<Signal, kSignalCount> all{};
  for (std::size_t i = 0; i < kSignalCount; ++i) all[i] = static_cast<Signal>(i);
  return all;
}();

/// "company_overview", "tech_stack", "funding", "news", "linkedin_posts".
std::string_view to_string(Signal s);
/// The signal named `name`, or kInvalidArgument listing the valid names.
Result<Signal> parse_signal(std::string_view name);
/// A comma list of signal names ("news, funding"); empty items are ignored.
Result<std::vector<Signal>> parse_signal_list(std::string_view list);

/// Whether a signal describes a company (fetched once per company) or a person.
enum class SignalLevel : std::uint8_t { kCompany, kPerson };

/// One value a signal reads from pipe0's output: a role, and the field names that carry it
/// (the first is the contract's name; the rest are accepted aliases).
struct OutputField {
  std::string role;
  std::vector<std::string> names;
};

/// Everything leadenrich needs to know about a signal. Defaults come from the pipe0 contract;
/// every field is configuration.
struct SignalSpec {
  Signal signal = Signal::kCompanyOverview;
  std::string pipe_id;                       ///< with its @version, e.g. "company:overview@2"
  SignalLevel level = SignalLevel::kCompany;
  std::vector<std::string> required_inputs;  ///< pipe0 input keys, e.g. "company_website_url"
  std::vector<OutputField> outputs;
  std::chrono::seconds freshness{0};         ///< how long a found value stays fresh
  std::chrono::seconds no_result_freshness{0};  ///< how long "nothing exists" stays believed
  double credits_per_lookup = 1.0;           ///< estimated price; see docs/cost.md
  int weight = 0;                            ///< share of the quality score (weights sum to 100)
};

/// The contract's defaults, one per signal, in kAllSignals order.
const std::vector<SignalSpec>& default_signal_specs();
/// The spec for `s` in `specs` (falls back to the default if `specs` lacks it).
const SignalSpec& find_spec(const std::vector<SignalSpec>& specs, Signal s);

// ---- Typed signal values -------------------------------------------------------------------

/// A parsed quantity: "201-500" is 201..500, 250 is 250..250, "10,001+" is 10001..(open).
struct NumberRange {
  double min = 0;
  std::optional<double> max;
  friend bool operator==(const NumberRange&, const NumberRange&) = default;
};
/// Reads numbers and the usual string shapes ("201-500", "$10M-$50M", "1.2B", "500+", "~300",
/// "2015"). Returns nullopt for anything it cannot read; never fails otherwise.
std::optional<NumberRange> parse_number_range(const Json& value);

struct CompanyOverview {
  std::optional<std::string> description;
  std::optional<std::string> industry;
  std::optional<std::string> region;
  Json headcount;                         ///< as the provider sent it
  std::optional<NumberRange> headcount_range;
  Json estimated_revenue;                 ///< as the provider sent it
  std::optional<NumberRange> estimated_revenue_usd;
  Json founded_year;                      ///< as the provider sent it
  std::optional<int> founded_year_number;
  friend bool operator==(const CompanyOverview&, const CompanyOverview&) = default;
};

struct Technology {
  std::string name;
  std::optional<std::string> category;
  friend bool operator==(const Technology&, const Technology&) = default;
};
struct TechStack {
  std::vector<Technology> technologies;
  friend bool operator==(const TechStack&, const TechStack&) = default;
};

struct FundingRound {
  std::optional<std::string> date;
  std::optional<std::string> round_type;
  Json amount;                            ///< as the provider sent it
  std::optional<double> amount_usd;
  std::vector<std::string> investors;
  friend bool operator==(const FundingRound&, const FundingRound&) = default;
};
struct Funding {
  Json total;                             ///< as the provider sent it
  std::optional<double> total_usd;
  std::vector<FundingRound> rounds;
  friend bool operator==(const Funding&, const Funding&) = default;
};

struct News {
  std::string summary;  ///< markdown
  friend bool operator==(const News&, const News&) = default;
};

struct LinkedInPost {
  std::string text;
  std::optional<std::string> posted_at;
  std::optional<std::string> url;
  std::optional<std::int64_t> reactions;
  friend bool operator==(const LinkedInPost&, const LinkedInPost&) = default;
};
struct LinkedInPosts {
  std::vector<LinkedInPost> posts;
  friend bool operator==(const LinkedInPosts&, const LinkedInPosts&) = default;
};

/// Lenient readers from provider values (a field name -> value lookup per signal). Each returns
/// nullopt when no field carried anything usable; odd types are tolerated, never fatal.
/// `fields` holds pipe0 output values by field name.
std::optional<CompanyOverview> read_company_overview(const SignalSpec& spec, const Json::Object& fields);
std::optional<TechStack> read_tech_stack(const SignalSpec& spec, const Json::Object& fields);
std::optional<Funding> read_funding(const SignalSpec& spec, const Json::Object& fields);
std::optional<News> read_news(const SignalSpec& spec, const Json::Object& fields);
std::optional<LinkedInPosts> read_linkedin_posts(const SignalSpec& spec, const Json::Object& fields);

// ---- Per-signal outcome --------------------------------------------------------------------

enum class SignalStatus : std::uint8_t {
  kDisabled = 0,     ///< not requested in this run
  kFound,            ///< a value came back
  kNoResult,         ///< the provider looked; nothing exists (a real, cacheable answer)
  kSkipped,          ///< not looked up: the lead lacks the input (reason says which)
  kFailed,           ///< the lookup failed (reason says why); retryable later
  kBudgetExhausted,  ///< not looked up: the run's budget was spent
};
/// "disabled", "found", "no_result", "skipped", "failed", "budget_exhausted".
std::string_view to_string(SignalStatus s);
Result<SignalStatus> parse_signal_status(std::string_view name);

struct Reason {
  std::string code;     ///< machine-readable, e.g. "missing_input", "RequirementUnmet"
  std::string message;  ///< one line for a person
  friend bool operator==(const Reason&, const Reason&) = default;
};

struct SignalResult {
  SignalStatus status = SignalStatus::kDisabled;
  std::optional<Reason> reason;
  std::string source;                   ///< pipe id that answered, e.g. "company:overview@2"
  std::optional<Timestamp> fetched_at;  ///< when the provider answered
  bool from_cache = false;
  friend bool operator==(const SignalResult&, const SignalResult&) = default;
};

}  // namespace leadenrich

#endif  // LEADENRICH_SIGNALS_H_
