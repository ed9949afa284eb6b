// Enriched leads written straight to JSON text, member by member, for the output writers: the
// same bytes as to_json(lead).dump(), without building a Json tree per lead. The layout is
// to_json's (src/lead.cc, next to it); a unit test holds the two to the same bytes.
#ifndef LEADENRICH_INTERNAL_LEAD_JSON_H_
#define LEADENRICH_INTERNAL_LEAD_JSON_H_

#include <string>

#include "leadenrich/lead.h"

namespace leadenrich::internal {

/// Appends to_json(lead).dump().
void append_lead_json(std::string& out, const EnrichedLead& lead);

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_LEAD_JSON_H_
