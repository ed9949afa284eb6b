// The lead model: a raw lead as it arrives (Aturiya / Apollo), and the outreach-ready lead
// leadenrich makes of it. Plain value types.
#ifndef LEADENRICH_LEAD_H_
#define LEADENRICH_LEAD_H_

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "leadenrich/json.h"
#include "leadenrich/signals.h"
#include "leadenrich/status.h"

namespace leadenrich {

/// A lead as the source gave it. Every field but lead_id is optional; keys leadenrich does not
/// know are kept in `extra`, in their order, and written back out unchanged.
struct RawLead {
  std::string lead_id;
  std::optional<std::string> agent_id;
  std::optional<std::string> campaign_id;
  std::optional<std::string> task_id;
  std::optional<std::string> task_status;  ///< approved | pending | rejected
  std::optional<std::string> campaign_name;
  std::optional<std::string> name;
  std::optional<std::string> email;
  std::optional<std::string> phone;
  std::optional<std::string> organization;
  std::optional<std::string> designation;
  std::optional<std::string> linkedin_url;
  std::optional<std::string> website;
  std::optional<std::string> status;       ///< approved | pending | rejected
  std::optional<std::string> type;         ///< old | new
  std::optional<std::string> created_at;   ///< ISO-8601, kept as text
  Json::Object extra;

  friend bool operator==(const RawLead&, const RawLead&) = default;
};

/// The 16 contract field names, in the order leadenrich writes them.
const std::array<std::string_view, 16>& raw_lead_field_names();

/// Reads a lead from a parsed JSON object. Lenient: string fields accept numbers and booleans
/// (kept as their text); null is the same as absent. Returns kInvalidArgument naming the field
/// when lead_id is missing or empty, or a field holds an object or array.
Result<RawLead> raw_lead_from_json(const Json& object);
/// Parses `text` as one JSON object and reads a lead from it.
Result<RawLead> parse_raw_lead(std::string_view text);
/// The lead as a JSON object: the 16 fields in order (null when absent), then `extra`.
Json to_json(const RawLead& lead);

/// A raw lead, untouched, plus what enrichment found and how.
struct EnrichedLead {
  RawLead lead;

  std::optional<CompanyOverview> company_overview;
  std::optional<TechStack> tech_stack;
  std::optional<Funding> funding;
  std::optional<News> news;
  std::optional<LinkedInPosts> linkedin_posts;

  /// One outcome per signal, indexed by Signal.
  std::array<SignalResult, kSignalCount> results{};

  std::optional<std::string> company_key;  ///< normalised company domain, if any
  std::optional<std::string> person_key;   ///< canonical LinkedIn profile URL, if any
  std::vector<Signal> signals_found;       ///< enabled signals with a value
  std::vector<Signal> signals_missed;      ///< enabled signals without one
  int quality_score = 0;                   ///< 0-100, see compute_quality_score
  std::optional<Timestamp> enriched_at;
  std::vector<std::string> provider_run_ids;
  int billed_lookups = 0;                  ///< lookups this lead caused to be billed
  double estimated_credits = 0;
  bool sandbox = false;                    ///< true when the data came from the sandbox

  SignalResult& result(Signal s) { return results[static_cast<std::size_t>(s)]; }
  const SignalResult& result(Signal s) const { return results[static_cast<std::size_t>(s)]; }

  friend bool operator==(const EnrichedLead&, const EnrichedLead&) = default;
};

/// Fills signals_found and signals_missed from `results` (kDisabled counts as neither).
void update_signal_lists(EnrichedLead& lead);

/// Quality score, 0-100: each found signal adds its spec weight (weights sum to 100) times a
/// freshness factor — 1.0 while younger than half its freshness window, falling linearly to 0.5
/// at the end of the window and staying 0.5 after. Signals not found add nothing, so a lead
/// enriched with fewer signals scores lower. A lead with no fetched_at counts as fresh.
int compute_quality_score(const EnrichedLead& lead, const std::vector<SignalSpec>& specs,
                          Timestamp now);

/// One signal's typed value as JSON (the "value" member of to_json's signal entry), or null
/// when the lead has no value for it. Used to cache values.
Json signal_value_to_json(const EnrichedLead& lead, Signal signal);
/// Sets (or, for null, clears) one signal's typed value from what signal_value_to_json wrote.
/// Returns kInvalidArgument naming the path when the JSON does not fit the signal's type.
Status set_signal_value_from_json(EnrichedLead& lead, Signal signal, const Json& value);

/// The lead as a JSON object with a stable key order (documented in docs/output.md).
Json to_json(const EnrichedLead& lead);
/// Reads what to_json(EnrichedLead) wrote. Lenient in the same ways as the raw lead.
Result<EnrichedLead> enriched_lead_from_json(const Json& object);
Result<EnrichedLead> parse_enriched_lead(std::string_view text);

}  // namespace leadenrich

#endif  // LEADENRICH_LEAD_H_
