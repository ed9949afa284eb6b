// Time points: UTC milliseconds, and their ISO-8601 text.
#ifndef LEADENRICH_TIME_H_
#define LEADENRICH_TIME_H_

#include <chrono>
#include <string>
#include <string_view>

#include "leadenrich/status.h"

namespace leadenrich {

/// Milliseconds since the Unix epoch, UTC (the same type as C++20's
/// std::chrono::sys_time<std::chrono::milliseconds>, spelled so C++17 users can name it).
using Timestamp = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;

/// "2026-11-25T02:00:00.123Z" (milliseconds shown only when non-zero).
std::string format_timestamp(Timestamp t);
/// Parses ISO-8601 date-times ("2026-11-25T02:00:00Z", with fraction or ±hh:mm offset) and
/// plain dates ("2026-11-25"). Returns kInvalidArgument naming the text otherwise.
Result<Timestamp> parse_timestamp(std::string_view text);

}  // namespace leadenrich

#endif  // LEADENRICH_TIME_H_
