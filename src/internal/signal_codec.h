// Signal values in and out: lenient readers from pipe0's fields, and a lead's typed value as
// the JSON the store keeps.
// Not installed: declarations that used to be public keep the leadenrich namespace, so callers
// only change their #include. Unit tests may include this header.
#ifndef LEADENRICH_INTERNAL_SIGNAL_CODEC_H_
#define LEADENRICH_INTERNAL_SIGNAL_CODEC_H_

#include <optional>

#include "leadenrich/json.h"
#include "leadenrich/lead.h"
#include "leadenrich/signals.h"
#include "leadenrich/status.h"

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

#endif  // LEADENRICH_INTERNAL_SIGNAL_CODEC_H_
