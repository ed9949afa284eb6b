// What the server's API and the MCP tools share about leads they hand out and keep: the id rule,
// and the short summary of a lead's stored result that lists of leads carry.
#ifndef LEADENRICH_INTERNAL_STORED_RESULT_H_
#define LEADENRICH_INTERNAL_STORED_RESULT_H_

#include <string_view>

#include "leadenrich/json.h"

namespace leadenrich::internal {

/// Lead, campaign and job ids as the APIs take them: letters, digits and _ . : @ -, 1 to 128
/// characters. They are opaque tokens that end up in upstream URLs, so "." and ".." (path steps
/// there) are not ids. The MCP tools' input schemas spell the same rule as a pattern.
bool valid_api_id(std::string_view id);

/// A stored result (the enriched lead's JSON as kept by the store) summarised for a list of
/// leads: quality_score, signals_found, signals_missed, enriched_at and each signal's status.
/// Null when the stored text is not JSON.
Json stored_result_summary(std::string_view stored);

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_STORED_RESULT_H_
