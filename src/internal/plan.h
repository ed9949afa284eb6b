// Planning: what each lead needs looked up, keyed so each company and person is looked up once.
#ifndef LEADENRICH_INTERNAL_PLAN_H_
#define LEADENRICH_INTERNAL_PLAN_H_

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "leadenrich/json.h"
#include "leadenrich/lead.h"
#include "leadenrich/signals.h"

namespace leadenrich::internal {

/// One lead's needs: its keys, and per signal either the entity to look up or a local outcome.
struct LeadPlan {
  std::optional<std::string> company_key;  ///< normalised domain
  std::optional<std::string> person_key;   ///< canonical LinkedIn URL
  /// Entity id ("company:acme.com") per signal to look up; empty when not looked up.
  std::array<std::string, kSignalCount> entity;
  /// The outcome of signals that are not looked up (disabled, skipped for a missing input).
  std::array<SignalResult, kSignalCount> local;
};

/// "company:<domain>" or "person:<url>".
std::string entity_id(SignalLevel level, std::string_view key);

/// Decides per signal: disabled (not in `enabled`), skipped with reason "missing_input" (the
/// lead lacks a required input), or looked up under the entity its level names.
LeadPlan plan_lead(const RawLead& lead, const std::vector<Signal>& enabled, const std::vector<SignalSpec>& specs);

/// The value a lead gives for a pipe0 input key (company_website_url, company_domain,
/// company_name, profile_url, name, email), or nullopt.
std::optional<std::string> lead_input(const RawLead& lead, const LeadPlan& plan, std::string_view input_key);
/// lead_input(...).has_value(), without building the value (planning asks it per signal and input).
bool has_input(const RawLead& lead, const LeadPlan& plan, std::string_view input_key);

/// The pipe0 input object for an entity, with every key in `input_keys` present (null where
/// the lead has none) plus company_name for company entities when known.
Json::Object entity_inputs(const RawLead& lead, const LeadPlan& plan, const std::vector<std::string>& input_keys,
                           SignalLevel level);

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_PLAN_H_
