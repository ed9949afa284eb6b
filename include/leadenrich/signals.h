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
#include <tuple>
#include <vector>

#include "leadenrich/json.h"
#include "leadenrich/status.h"
#include "leadenrich/time.h"

namespace leadenrich {

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
  friend bool operator==(const NumberRange& a, const NumberRange& b) {
    return std::tie(a.min, a.max) ==
           std::tie(b.min, b.max);
  }
  friend bool operator!=(const NumberRange& a, const NumberRange& b) { return !(a == b); }
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
  friend bool operator==(const CompanyOverview& a, const CompanyOverview& b) {
    return std::tie(a.description, a.industry, a.region, a.headcount, a.headcount_range,
                    a.estimated_revenue, a.estimated_revenue_usd, a.founded_year,
                    a.founded_year_number) ==
           std::tie(b.description, b.industry, b.region, b.headcount, b.headcount_range,
                b.estimated_revenue, b.estimated_revenue_usd, b.founded_year,
                b.founded_year_number);
  }
  friend bool operator!=(const CompanyOverview& a, const CompanyOverview& b) { return !(a == b); }
};

struct Technology {
  std::string name;
  std::optional<std::string> category;
  friend bool operator==(const Technology& a, const Technology& b) {
    return std::tie(a.name, a.category) ==
           std::tie(b.name, b.category);
  }
  friend bool operator!=(const Technology& a, const Technology& b) { return !(a == b); }
};
struct TechStack {
  std::vector<Technology> technologies;
  friend bool operator==(const TechStack& a, const TechStack& b) {
    return a.technologies == b.technologies;
  }
  friend bool operator!=(const TechStack& a, const TechStack& b) { return !(a == b); }
};

struct FundingRound {
  std::optional<std::string> date;
  std::optional<std::string> round_type;
  Json amount;                            ///< as the provider sent it
  std::optional<double> amount_usd;
  std::vector<std::string> investors;
  friend bool operator==(const FundingRound& a, const FundingRound& b) {
    return std::tie(a.date, a.round_type, a.amount, a.amount_usd, a.investors) ==
           std::tie(b.date, b.round_type, b.amount, b.amount_usd, b.investors);
  }
  friend bool operator!=(const FundingRound& a, const FundingRound& b) { return !(a == b); }
};
struct Funding {
  Json total;                             ///< as the provider sent it
  std::optional<double> total_usd;
  std::vector<FundingRound> rounds;
  friend bool operator==(const Funding& a, const Funding& b) {
    return std::tie(a.total, a.total_usd, a.rounds) ==
           std::tie(b.total, b.total_usd, b.rounds);
  }
  friend bool operator!=(const Funding& a, const Funding& b) { return !(a == b); }
};

struct News {
  std::string summary;  ///< markdown
  friend bool operator==(const News& a, const News& b) {
    return a.summary == b.summary;
  }
  friend bool operator!=(const News& a, const News& b) { return !(a == b); }
};

struct LinkedInPost {
  std::string text;
  std::optional<std::string> posted_at;
  std::optional<std::string> url;
  std::optional<std::int64_t> reactions;
  friend bool operator==(const LinkedInPost& a, const LinkedInPost& b) {
    return std::tie(a.text, a.posted_at, a.url, a.reactions) ==
           std::tie(b.text, b.posted_at, b.url, b.reactions);
  }
  friend bool operator!=(const LinkedInPost& a, const LinkedInPost& b) { return !(a == b); }
};
struct LinkedInPosts {
  std::vector<LinkedInPost> posts;
  friend bool operator==(const LinkedInPosts& a, const LinkedInPosts& b) {
    return a.posts == b.posts;
  }
  friend bool operator!=(const LinkedInPosts& a, const LinkedInPosts& b) { return !(a == b); }
};

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
  friend bool operator==(const Reason& a, const Reason& b) {
    return std::tie(a.code, a.message) ==
           std::tie(b.code, b.message);
  }
  friend bool operator!=(const Reason& a, const Reason& b) { return !(a == b); }
};

struct SignalResult {
  SignalStatus status = SignalStatus::kDisabled;
  std::optional<Reason> reason;
  std::string source;                   ///< pipe id that answered, e.g. "company:overview@2"
  std::optional<Timestamp> fetched_at;  ///< when the provider answered
  bool from_cache = false;
  friend bool operator==(const SignalResult& a, const SignalResult& b) {
    return std::tie(a.status, a.reason, a.source, a.fetched_at, a.from_cache) ==
           std::tie(b.status, b.reason, b.source, b.fetched_at, b.from_cache);
  }
  friend bool operator!=(const SignalResult& a, const SignalResult& b) { return !(a == b); }
};

}  // namespace leadenrich

#endif  // LEADENRICH_SIGNALS_H_
