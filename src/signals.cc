#include "leadenrich/signals.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "signals/provider_values.h"
#include "signals/signal_codec.h"

namespace leadenrich {

using namespace std::chrono_literals;

// ---- timestamps ----------------------------------------------------------------------------

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

// ---- signal names and specs ----------------------------------------------------------------

std::string_view to_string(Signal s) {
  std::size_t i = static_cast<std::size_t>(s);
  return i < kSignalCount ? internal::kSignalNames[i] : "unknown";
}

Result<Signal> parse_signal(std::string_view name) {
  for (Signal s : kAllSignals) {
    if (to_string(s) == name) return s;
  }
  return invalid_argument(fmt::format("unknown signal '{}' (valid: {})", name, fmt::join(internal::kSignalNames, ", ")));
}

Result<std::vector<Signal>> parse_signal_list(std::string_view list) {
  std::vector<Signal> out;
  while (!list.empty()) {
    std::size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front()))) item.remove_prefix(1);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) item.remove_suffix(1);
    if (item.empty()) continue;
    Result<Signal> s = parse_signal(item);
    if (!s.ok()) return s.status();
    if (std::find(out.begin(), out.end(), *s) == out.end()) out.push_back(*s);
  }
  return out;
}

const std::vector<SignalSpec>& default_signal_specs() {
  static const std::vector<SignalSpec> kSpecs = [] {
    std::vector<SignalSpec> specs;
    for (const internal::SignalCodec* codec : internal::signal_codecs()) specs.push_back(codec->default_spec());
    return specs;
  }();
  return kSpecs;
}

const SignalSpec& find_spec(const std::vector<SignalSpec>& specs, Signal s) {
  for (const SignalSpec& spec : specs) {
    if (spec.signal == s) return spec;
  }
  return default_signal_specs()[static_cast<std::size_t>(s)];
}

std::string_view to_string(SignalStatus s) {
  switch (s) {
    case SignalStatus::kDisabled: return "disabled";
    case SignalStatus::kFound: return "found";
    case SignalStatus::kNoResult: return "no_result";
    case SignalStatus::kSkipped: return "skipped";
    case SignalStatus::kFailed: return "failed";
    case SignalStatus::kBudgetExhausted: return "budget_exhausted";
  }
  return "unknown";
}

Result<SignalStatus> parse_signal_status(std::string_view name) {
  for (auto s : {SignalStatus::kDisabled, SignalStatus::kFound, SignalStatus::kNoResult, SignalStatus::kSkipped,
                 SignalStatus::kFailed, SignalStatus::kBudgetExhausted}) {
    if (to_string(s) == name) return s;
  }
  return invalid_argument(fmt::format("unknown signal status '{}'", name));
}

// ---- number ranges (each signal's own reader is in src/signals/<name>.cc) -------------------

namespace {

using internal::lower;
using internal::trim;

struct Quantity {
  double value = 0;
  double scale = 1;  // 1e3 for "k", 1e6 for "M", ...
};

// Scans `s` from `i` for the next number with an optional magnitude suffix.
std::optional<Quantity> next_quantity(std::string_view s, std::size_t& i) {
  while (i < s.size() && !std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  if (i >= s.size()) return std::nullopt;
  std::string digits;
  while (i < s.size()) {
    char c = s[i];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      digits.push_back(c);
    } else if (c == ',' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
      // a thousands separator: "10,001" 
    } else if (c == '.' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
      digits.push_back('.');
    } else {
      break;
    }
    ++i;
  }
  double value = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc()) return std::nullopt;
  std::size_t j = i;
  while (j < s.size() && s[j] == ' ') ++j;
  std::string word;
  while (j < s.size() && std::isalpha(static_cast<unsigned char>(s[j]))) {
    word.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(s[j]))));
    ++j;
  }
  double scale = 1;
  if (word == "k" || word == "thousand") scale = 1e3;
  else if (word == "m" || word == "mm" || word == "million" || word == "mn") scale = 1e6;
  else if (word == "b" || word == "bn" || word == "billion") scale = 1e9;
  else if (word == "t" || word == "trillion") scale = 1e12;
  if (scale != 1) i = j;
  // Out of range ("1e300 trillion") is unreadable, not infinite: a range must survive the
  // store's JSON, which has no infinity.
  if (!std::isfinite(value * scale)) return std::nullopt;
  return Quantity{value * scale, scale};
}

}  // namespace

std::optional<NumberRange> parse_number_range(const Json& value) {
  if (value.is_number()) {
    std::optional<double> d = value.to_double();
    if (!d || !std::isfinite(*d)) return std::nullopt;
    return NumberRange{*d, *d};
  }
  if (!value.is_string()) return std::nullopt;
  std::string s = lower(trim(value.as_string()));
  if (s.empty()) return std::nullopt;
  std::size_t i = 0;
  std::optional<Quantity> a = next_quantity(s, i);
  if (!a) return std::nullopt;
  std::size_t after_first = i;
  std::optional<Quantity> b = next_quantity(s, i);
  bool open_ended = s.find('+', 0) != std::string::npos || s.front() == '>' ||
                    s.find("more than") != std::string::npos || s.find("over ") != std::string::npos;
  if (b) {
    // A separator must stand between the two numbers for this to be a range.
    std::string_view between = std::string_view(s).substr(after_first, i - after_first);
    bool is_range = between.find('-') != std::string_view::npos || between.find("to") != std::string_view::npos ||
                    between.find("\xE2\x80\x93") != std::string_view::npos;  // en dash
    if (is_range) {
      // "$10-50M": the second number's suffix applies to both.
      if (a->scale == 1 && b->scale != 1) a->value *= b->scale;
      if (!std::isfinite(a->value)) return std::nullopt;
      return NumberRange{a->value, b->value};
    }
  }
  if (open_ended) return NumberRange{a->value, std::nullopt};
  return NumberRange{a->value, a->value};
}

}  // namespace leadenrich
