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
