#include "leadenrich/time.h"

#include <cctype>
#include <charconv>

#include <fmt/format.h>

namespace leadenrich {

using namespace std::chrono_literals;

std::string format_timestamp(Timestamp t) {
  auto day = std::chrono::floor<std::chrono::days>(t);
  std::chrono::year_month_day ymd{day};
  std::chrono::hh_mm_ss<std::chrono::milliseconds> hms{t - day};
  int year = static_cast<int>(ymd.year());
  long long millis = hms.subseconds().count();
  if (year < 0 || year > 9999) {  // rare enough for the general formatter
    std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", year, static_cast<unsigned>(ymd.month()),
                                  static_cast<unsigned>(ymd.day()), hms.hours().count(), hms.minutes().count(),
                                  hms.seconds().count());
    if (millis != 0) out += fmt::format(".{:03}", millis);
    out += 'Z';
    return out;
  }
  // Every lead written carries several timestamps: digits by hand, one allocation.
  char buf[24];
  auto put = [&buf](std::size_t at, long long value, int width) {
    for (int i = width - 1; i >= 0; --i, value /= 10) buf[at + static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
  };
  put(0, year, 4);
  buf[4] = '-';
  put(5, static_cast<unsigned>(ymd.month()), 2);
  buf[7] = '-';
  put(8, static_cast<unsigned>(ymd.day()), 2);
  buf[10] = 'T';
  put(11, hms.hours().count(), 2);
  buf[13] = ':';
  put(14, hms.minutes().count(), 2);
  buf[16] = ':';
  put(17, hms.seconds().count(), 2);
  std::size_t n = 19;
  if (millis != 0) {
    buf[19] = '.';
    put(20, millis, 3);
    n = 23;
  }
  buf[n++] = 'Z';
  return std::string(buf, n);
}

namespace {

bool read_digits(std::string_view s, std::size_t& i, std::size_t n, int& out) {
  if (i + n > s.size()) return false;
  int v = 0;
  for (std::size_t k = 0; k < n; ++k) {
    char c = s[i + k];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  i += n;
  return true;
}

bool expect(std::string_view s, std::size_t& i, char c) {
  if (i < s.size() && s[i] == c) {
    ++i;
    return true;
  }
  return false;
}

}  // namespace

Result<Timestamp> parse_timestamp(std::string_view text) {
  auto bad = [&] { return invalid_argument(fmt::format("'{}' is not an ISO-8601 date-time", text)); };
  std::size_t i = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!read_digits(text, i, 4, year) || !expect(text, i, '-') || !read_digits(text, i, 2, month) ||
      !expect(text, i, '-') || !read_digits(text, i, 2, day)) {
    return bad();
  }
  std::chrono::year_month_day ymd{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                                  std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return bad();
  std::chrono::milliseconds offset{0};
  std::chrono::milliseconds fraction{0};
  if (i < text.size()) {
    if (text[i] != 'T' && text[i] != 't' && text[i] != ' ') return bad();
    ++i;
    if (!read_digits(text, i, 2, hour) || !expect(text, i, ':') || !read_digits(text, i, 2, minute)) return bad();
    if (expect(text, i, ':') && !read_digits(text, i, 2, second)) return bad();
    if (hour > 23 || minute > 59 || second > 60) return bad();
    if (expect(text, i, '.') || expect(text, i, ',')) {
      int scale = 100, ms = 0;
      std::size_t start = i;
      while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
        ms += (text[i] - '0') * scale;
        scale /= 10;
        ++i;
      }
      if (i == start) return bad();
      fraction = std::chrono::milliseconds{ms};
    }
    if (i < text.size()) {
      if (text[i] == 'Z' || text[i] == 'z') {
        ++i;
      } else if (text[i] == '+' || text[i] == '-') {
        int sign = text[i] == '-' ? -1 : 1;
        ++i;
        int oh = 0, om = 0;
        if (!read_digits(text, i, 2, oh)) return bad();
        expect(text, i, ':');
        if (i < text.size() && !read_digits(text, i, 2, om)) return bad();
        offset = sign * (std::chrono::hours{oh} + std::chrono::minutes{om});
      }
    }
    if (i != text.size()) return bad();
  }
  Timestamp t = std::chrono::sys_days{ymd} + std::chrono::hours{hour} + std::chrono::minutes{minute} +
                std::chrono::seconds{second} + fraction;
  return Timestamp{t - offset};
}

}  // namespace leadenrich
