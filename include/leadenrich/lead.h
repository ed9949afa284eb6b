// The lead model: a raw lead as it arrives (Aturiya / Apollo), and the outreach-ready lead
// leadenrich makes of it. Plain value types.
#ifndef LEADENRICH_LEAD_H_
#define LEADENRICH_LEAD_H_

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
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

  friend bool operator==(const RawLead& a, const RawLead& b) {
    return std::tie(a.lead_id, a.agent_id, a.campaign_id, a.task_id, a.task_status, a.campaign_name,
                    a.name, a.email, a.phone, a.organization, a.designation, a.linkedin_url,
                    a.website, a.status, a.type, a.created_at, a.extra) ==
           std::tie(b.lead_id, b.agent_id, b.campaign_id, b.task_id, b.task_status,
                b.campaign_name, b.name, b.email, b.phone, b.organization, b.designation,
                b.linkedin_url, b.website, b.status, b.type, b.created_at, b.extra);
  }
  friend bool operator!=(const RawLead& a, const RawLead& b) { return !(a == b); }
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

  friend bool operator==(const EnrichedLead& a, const EnrichedLead& b) {
    return std::tie(a.lead, a.company_overview, a.tech_stack, a.funding, a.news, a.linkedin_posts,
                    a.results, a.company_key, a.person_key, a.signals_found, a.signals_missed,
                    a.quality_score, a.enriched_at, a.provider_run_ids, a.billed_lookups,
                    a.estimated_credits, a.sandbox) ==
           std::tie(b.lead, b.company_overview, b.tech_stack, b.funding, b.news,
                b.linkedin_posts, b.results, b.company_key, b.person_key,
                b.signals_found, b.signals_missed, b.quality_score, b.enriched_at,
                b.provider_run_ids, b.billed_lookups, b.estimated_credits, b.sandbox);
  }
  friend bool operator!=(const EnrichedLead& a, const EnrichedLead& b) { return !(a == b); }
};

/// Fills signals_found and signals_missed from `results` (kDisabled counts as neither).
void update_signal_lists(EnrichedLead& lead);

/// Quality score, 0-100: each found signal adds its spec weight (weights sum to 100) times a
/// freshness factor — 1.0 while younger than half its freshness window, falling linearly to 0.5
/// at the end of the window and staying 0.5 after. Signals not found add nothing, so a lead
/// enriched with fewer signals scores lower. A lead with no fetched_at counts as fresh.
int compute_quality_score(const EnrichedLead& lead, const std::vector<SignalSpec>& specs,
                          Timestamp now);

/// The lead as a JSON object with a stable key order (documented in docs/output.md).
Json to_json(const EnrichedLead& lead);
/// Reads what to_json(EnrichedLead) wrote. Lenient in the same ways as the raw lead.
Result<EnrichedLead> enriched_lead_from_json(const Json& object);
Result<EnrichedLead> parse_enriched_lead(std::string_view text);

}  // namespace leadenrich

#endif  // LEADENRICH_LEAD_H_
