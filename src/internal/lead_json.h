// Enriched leads written straight to JSON text, member by member, for the output writers: the
// same bytes as to_json(lead).dump(), without building a Json tree per lead. The layout is
// to_json's (src/lead.cc, next to it); a unit test holds the two to the same bytes.
#ifndef LEADENRICH_INTERNAL_LEAD_JSON_H_
#define LEADENRICH_INTERNAL_LEAD_JSON_H_

#include <string>
#include <vector>

#include "leadenrich/lead.h"

namespace leadenrich::internal {

/// Appends to_json(lead).dump().
void append_lead_json(std::string& out, const EnrichedLead& lead);

/// Appends the "rounds" member of signal_value_to_json(lead, kFunding), dumped.
void append_funding_rounds_json(std::string& out, const std::vector<FundingRound>& rounds);

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_LEAD_JSON_H_
