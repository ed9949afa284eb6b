// Writers' helpers: JSON text appended straight to a buffer.
// Not installed: declarations that used to be public keep the leadenrich namespace, so callers
// only change their #include. Unit tests may include this header.
#ifndef LEADENRICH_INTERNAL_JSON_WRITE_H_
#define LEADENRICH_INTERNAL_JSON_WRITE_H_

#include <string>
#include <string_view>

namespace leadenrich {

/// Appends `s` to `out` as a quoted JSON string.
void append_json_string(std::string& out, std::string_view s);

/// Appends `d` as Json(d) writes it: the shortest text that reads back to it, null when not finite.
void append_json_number(std::string& out, double d);

}  // namespace leadenrich

#endif  // LEADENRICH_INTERNAL_JSON_WRITE_H_
