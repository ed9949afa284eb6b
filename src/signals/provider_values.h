// Reading pipe0's output values leniently: what every signal's reader (src/signals/*.cc) does
// the same way. Providers send text, numbers, lists, lists inside JSON strings and objects
// wrapping lists; these accept them all and never fail.
#ifndef LEADENRICH_SIGNALS_PROVIDER_VALUES_H_
#define LEADENRICH_SIGNALS_PROVIDER_VALUES_H_

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "leadenrich/json.h"
#include "leadenrich/signals.h"

namespace leadenrich::internal {

std::string_view trim(std::string_view s);
std::string lower(std::string_view s);

/// A string, a number's text or a boolean's word; nullopt for null, empty text and containers.
std::optional<std::string> text_of(const Json& v);

/// The first member of `object` named any of `keys` that is not null.
const Json* member(const Json& object, std::initializer_list<std::string_view> keys);

/// The value of output role `role` in `fields`, trying each of the spec's field names in turn.
const Json* role_value(const SignalSpec& spec, const Json::Object& fields, std::string_view role);

/// Lists sometimes arrive as a JSON string holding the list, or inside an object ("items",
/// "data", ...): the list if so, else the value as it is.
Json unwrap_list(const Json& v);

/// A year (1000..3000) from a number or text ("2015", "founded 2015"), else nullopt.
std::optional<int> year_of(const Json& v);

/// Names from a list of strings or of objects ("name", "title", ...), or a separated string.
std::vector<std::string> names_of(const Json& v);

}  // namespace leadenrich::internal

#endif  // LEADENRICH_SIGNALS_PROVIDER_VALUES_H_
