// URL pieces the clients build.
#ifndef LEADENRICH_INTERNAL_URL_H_
#define LEADENRICH_INTERNAL_URL_H_

#include <string>
#include <string_view>

namespace leadenrich::internal {

/// Percent-encodes everything but RFC 3986 unreserved characters, for a path segment or a
/// query value.
std::string percent_encode(std::string_view s);

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_URL_H_
