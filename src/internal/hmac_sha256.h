// SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), for signing webhook deliveries.
//
// Our own rather than OpenSSL's libcrypto: the library links libcurl only, and whether that
// libcurl brings libcrypto depends on its TLS flavour (OpenSSL, GnuTLS, NSS); linking libcrypto
// directly would add a dependency to the library and its installed package for ~150 lines.
// Checked against the RFC 4231 test vectors (tests/unit/hmac_test.cc).
#ifndef LEADENRICH_INTERNAL_HMAC_SHA256_H_
#define LEADENRICH_INTERNAL_HMAC_SHA256_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace leadenrich::internal {

using Sha256Digest = std::array<std::uint8_t, 32>;

Sha256Digest sha256(std::string_view data);
Sha256Digest hmac_sha256(std::string_view key, std::string_view message);

/// Lower-case hex of `bytes`.
std::string to_hex(const std::uint8_t* bytes, std::size_t size);
inline std::string to_hex(const Sha256Digest& d) { return to_hex(d.data(), d.size()); }

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_HMAC_SHA256_H_
