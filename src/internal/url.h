// URL pieces the clients build.
#ifndef LEADENRICH_INTERNAL_URL_H_
#define LEADENRICH_INTERNAL_URL_H_

#include <string>
#include <string_view>

namespace leadenrich::internal {

/// Percent-encodes everything but RFC 3986 unreserved characters, for a path segment or a
/// query value.
std::string percent_encode(std::string_view s);

/// `url` with the user information of its authority masked ("https://user:secret@host/p" becomes
/// "https://***@host/p"), for every message, log line and setting shown to a person: a base URL
/// may carry a proxy's credentials, and they must never be printed.
std::string url_with_userinfo_masked(std::string_view url);

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_URL_H_
