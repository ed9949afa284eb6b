// The server's bearer keys: the LEADENRICH_API_KEYS list, and a comparison in constant time.
// Not installed: declarations that used to be public keep the leadenrich namespace, so callers
// only change their #include. Unit tests may include this header.
#ifndef LEADENRICH_INTERNAL_API_KEYS_H_
#define LEADENRICH_INTERNAL_API_KEYS_H_

#include <string_view>
#include <vector>

#include "leadenrich/config.h"

namespace leadenrich {

/// Keys from a comma-separated list (LEADENRICH_API_KEYS); blanks around keys are dropped.
std::vector<Secret> parse_api_keys(std::string_view list);

/// True when `candidate` equals one of `keys`, taking the same time whichever key (if any)
/// matches and however much of it does.
bool api_key_matches(const std::vector<Secret>& keys, std::string_view candidate);

}  // namespace leadenrich

#endif  // LEADENRICH_INTERNAL_API_KEYS_H_
