// The sandbox's synthetic world: campaigns and leads (Aturiya) and enrichment answers (pipe0),
// all deterministic from a seed and the inputs, so a lookup always gives the same answer.
#ifndef LEADENRICH_INTERNAL_SANDBOX_DATA_H_
#define LEADENRICH_INTERNAL_SANDBOX_DATA_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "leadenrich/json.h"

namespace leadenrich::internal {

/// splitmix64 finaliser: a well-mixed 64-bit hash step.
std::uint64_t mix64(std::uint64_t x);
std::uint64_t hash_text(std::uint64_t seed, std::string_view text);

struct SandboxWorld {
  std::string user_id;
  std::string agent_id;
  std::vector<Json> campaigns;           ///< campaign objects
  std::vector<std::vector<Json>> leads;  ///< leads per campaign, same order
};

SandboxWorld make_world(std::uint64_t seed, int campaigns, int leads_per_campaign);

/// A pipe the sandbox knows: its required inputs and output field names.
struct SandboxPipe {
  std::string_view id;
  std::vector<std::string_view> required;
  std::vector<std::string_view> outputs;
};
/// nullptr for a pipe id the catalog does not have.
const SandboxPipe* find_sandbox_pipe(std::string_view id);

/// One record's output fields for one pipe, as pipe0 field objects ({value, status, type, ...}).
/// About one lookup in five is no_result; a record lacking a required input gets skipped
/// fields with reason RequirementUnmet. `billed` is set when an output completed.
Json::Object sandbox_fields(std::uint64_t seed, const SandboxPipe& pipe, const Json::Object& inputs, bool& billed,
                            std::string& lookup_key);

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_SANDBOX_DATA_H_
