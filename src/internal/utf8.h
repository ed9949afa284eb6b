// UTF-8 checks shared by the JSON writer, the identity normaliser and the file sources.
#ifndef LEADENRICH_INTERNAL_UTF8_H_
#define LEADENRICH_INTERNAL_UTF8_H_

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace leadenrich::internal {

/// Length of the well-formed UTF-8 sequence at s[i] (no overlongs, surrogates or values past
/// U+10FFFF), or 0 when it is not one. `code_point` receives its value when not null.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i, std::uint32_t* code_point = nullptr);

/// True when all of `s` is well-formed UTF-8.
bool valid_utf8(std::string_view s);

/// The code points of `s`; false when it is not well-formed UTF-8.
bool decode_utf8(std::string_view s, std::vector<std::uint32_t>& out);

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_UTF8_H_
