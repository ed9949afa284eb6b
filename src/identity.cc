#include "leadenrich/identity.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>

#include <fmt/format.h>

#include "internal/utf8.h"

namespace leadenrich {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

// RFC 3492 punycode encoding of one label's code points.
std::string punycode_encode(const std::vector<std::uint32_t>& input) {
  constexpr std::uint32_t kBase = 36, kTMin = 1, kTMax = 26, kSkew = 38, kDamp = 700;
  auto digit = [](std::uint32_t d) { return static_cast<char>(d < 26 ? 'a' + d : '0' + (d - 26)); };
  auto adapt = [&](std::uint32_t delta, std::uint32_t points, bool first) {
    delta = first ? delta / kDamp : delta / 2;
    delta += delta / points;
    std::uint32_t k = 0;
    while (delta > ((kBase - kTMin) * kTMax) / 2) {
      delta /= kBase - kTMin;
      k += kBase;
    }
    return k + (kBase - kTMin + 1) * delta / (delta + kSkew);
  };
  std::string out;
  for (std::uint32_t cp : input) {
    if (cp < 0x80) out.push_back(static_cast<char>(cp));
  }
  std::uint32_t basic = static_cast<std::uint32_t>(out.size());
  std::uint32_t handled = basic;
  if (basic > 0) out.push_back('-');
  std::uint32_t n = 0x80, delta = 0, bias = 72;
  while (handled < input.size()) {
    std::uint32_t m = UINT32_MAX;
    for (std::uint32_t cp : input) {
      if (cp >= n && cp < m) m = cp;
    }
    delta += (m - n) * (handled + 1);
    n = m;
    for (std::uint32_t cp : input) {
      if (cp < n) ++delta;
      if (cp == n) {
        std::uint32_t q = delta;
        for (std::uint32_t k = kBase;; k += kBase) {
          std::uint32_t t = k <= bias ? kTMin : k >= bias + kTMax ? kTMax : k - bias;
          if (q < t) break;
          out.push_back(digit(t + (q - t) % (kBase - t)));
          q = (q - t) / (kBase - t);
        }
        out.push_back(digit(q));
        bias = adapt(delta, handled + 1, handled == basic);
        delta = 0;
        ++handled;
      }
    }
    ++delta;
    ++n;
  }
  return out;
}

// One label to its ASCII form: lowercase, and "xn--" punycode when it holds non-ASCII.
bool label_to_ascii(std::string_view label, std::string& out) {
  bool ascii = std::all_of(label.begin(), label.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii) {
    out = ascii_lower(label);
    return true;
  }
  std::vector<std::uint32_t> cps;
  if (!internal::decode_utf8(label, cps)) return false;
  for (std::uint32_t& cp : cps) {
    if (cp >= 'A' && cp <= 'Z') cp += 'a' - 'A';
  }
  out = "xn--" + punycode_encode(cps);
  return true;
}

bool valid_label(std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  return std::all_of(label.begin(), label.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// Second-level labels under which country domains register names ("acme.co.uk").
bool is_second_level_suffix(std::string_view label, std::string_view tld) {
  static constexpr std::array<std::string_view, 12> kLabels = {
      "co", "com", "net", "org", "ac", "gov", "edu", "ltd", "plc", "or", "ne", "gob"};
  return tld.size() == 2 && std::find(kLabels.begin(), kLabels.end(), label) != kLabels.end();
}

std::vector<std::string_view> split_labels(std::string_view host) {
  std::vector<std::string_view> labels;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = host.find('.', start);
    labels.push_back(host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return labels;
}

// The label that names the provider in "yahoo.co.uk", "gmx.de", "outlook.com".
std::string_view brand_label(std::string_view domain) {
  std::vector<std::string_view> labels = split_labels(domain);
  if (labels.size() < 2) return domain;
  std::size_t n = labels.size();
  if (n >= 3 && is_second_level_suffix(labels[n - 2], labels[n - 1])) return labels[n - 3];
  return labels[n - 2];
}

}  // namespace

Result<std::string> normalize_domain(std::string_view website) {
  std::string_view s = trim(website);
  auto reject = [&](std::string_view why) {
    return invalid_argument(fmt::format("'{}' is not a website: {}", website, why));
  };
  if (s.empty()) return reject("it is empty");
  if (starts_with_ci(s, "mailto:")) {
    s.remove_prefix(7);
    std::size_t at = s.rfind('@');
    if (at != std::string_view::npos) s.remove_prefix(at + 1);
  }
  std::size_t scheme = s.find("://");
  if (scheme != std::string_view::npos) {
    std::string_view name = s.substr(0, scheme);
    bool is_scheme = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
    });
    if (!is_scheme) return reject("it has a malformed scheme");
    s.remove_prefix(scheme + 3);
  } else if (s.size() >= 2 && s[0] == '/' && s[1] == '/') {
    s.remove_prefix(2);
  }
  std::size_t end = s.find_first_of("/?#\\ ");
  s = s.substr(0, end);
  std::size_t at = s.rfind('@');
  if (at != std::string_view::npos) s.remove_prefix(at + 1);
  if (!s.empty() && s.front() == '[') return reject("an IP address is not a company domain");
  std::size_t colon = s.find(':');
  if (colon != std::string_view::npos) {
    std::string_view port = s.substr(colon + 1);
    if (!std::all_of(port.begin(), port.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
      return reject("it has a malformed port");
    }
    s = s.substr(0, colon);
  }
  while (!s.empty() && s.back() == '.') s.remove_suffix(1);
  if (s.empty()) return reject("it has no host");
  if (s.size() > 253 * 4) return reject("the host is too long");

  std::string host;
  for (std::string_view label : split_labels(s)) {
    std::string ascii;
    if (!label_to_ascii(label, ascii)) return reject("it is not valid UTF-8");
    if (!valid_label(ascii)) return reject("it holds a character or label a host name cannot have");
    if (!host.empty()) host.push_back('.');
    host += ascii;
  }
  if (host.size() > 253) return reject("the host is too long");
  while (host.rfind("www.", 0) == 0 && std::count(host.begin(), host.end(), '.') >= 2) host.erase(0, 4);
  if (host.find('.') == std::string::npos) return reject("a host name needs a dot");
  std::string_view tld = std::string_view(host).substr(host.rfind('.') + 1);
  if (std::all_of(tld.begin(), tld.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    return reject("an IP address is not a company domain");
  }
  if (tld.size() < 2) return reject("the top-level domain is too short");
  return host;
}

std::string registrable_domain(std::string_view host) {
  std::vector<std::string_view> labels = split_labels(host);
  std::size_t n = labels.size();
  if (n <= 2) return std::string(host);
  std::size_t keep = is_second_level_suffix(labels[n - 2], labels[n - 1]) ? 3 : 2;
  if (n <= keep) return std::string(host);
  std::string out;
  for (std::size_t i = n - keep; i < n; ++i) {
    if (!out.empty()) out.push_back('.');
    out.append(labels[i]);
  }
  return out;
}

bool is_free_mail_domain(std::string_view domain) {
  // Whole domains.
  static constexpr std::array<std::string_view, 40> kDomains = {
      "gmail.com", "googlemail.com", "msn.com", "icloud.com", "me.com", "mac.com", "aol.com",
      "proton.me", "protonmail.com", "protonmail.ch", "pm.me", "web.de", "mail.ru", "inbox.ru",
      "list.ru", "bk.ru", "qq.com", "163.com", "126.com", "yeah.net", "sina.com", "zoho.com",
      "zohomail.com", "tutanota.com", "tuta.io", "fastmail.com", "fastmail.fm", "hushmail.com",
      "mail.com", "email.com", "usa.com", "gmx.com", "rediffmail.com", "naver.com", "daum.net",
      "hanmail.net", "seznam.cz", "wp.pl", "o2.pl", "interia.pl"};
  // Families: the provider's name under any country domain (yahoo.co.uk, gmx.de, ...).
  static constexpr std::array<std::string_view, 14> kFamilies = {
      "yahoo", "ymail", "rocketmail", "hotmail", "outlook", "live", "windowslive", "gmx", "yandex",
      "libero", "orange", "free", "laposte", "t-online"};
  std::string d = ascii_lower(trim(domain));
  while (!d.empty() && d.back() == '.') d.pop_back();
  if (std::find(kDomains.begin(), kDomains.end(), d) != kDomains.end()) return true;
  std::string_view brand = brand_label(d);
  if (brand == "free" || brand == "orange" || brand == "laposte") {
    // French ISP mail: only their own country domain, so "free.io" startups are not caught.
    return d == std::string(brand) + ".fr";
  }
  return std::find(kFamilies.begin(), kFamilies.end(), brand) != kFamilies.end();
}

Result<std::string> email_domain(std::string_view email) {
  std::string_view e = trim(email);
  if (starts_with_ci(e, "mailto:")) e.remove_prefix(7);
  std::size_t at = e.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= e.size()) {
    return invalid_argument(fmt::format("'{}' is not an email address", email));
  }
  std::string_view domain = e.substr(at + 1);
  if (domain.find_first_of("/:?# ") != std::string_view::npos) {
    return invalid_argument(fmt::format("'{}' is not an email address", email));
  }
  return normalize_domain(domain);
}

CompanyIdentity company_identity(const RawLead& lead) {
  CompanyIdentity id;
  std::string website_problem;
  if (lead.website && !trim(*lead.website).empty()) {
    Result<std::string> d = normalize_domain(*lead.website);
    if (d.ok()) {
      id.domain = *d;
      id.source = "website";
      return id;
    }
    website_problem = d.status().message();
  }
  if (lead.email && !trim(*lead.email).empty()) {
    Result<std::string> d = email_domain(*lead.email);
    if (d.ok() && !is_free_mail_domain(*d)) {
      id.domain = registrable_domain(*d);
      id.source = "email";
      return id;
    }
    id.reason = d.ok() ? fmt::format("no website, and the email is at free-mail provider {}", *d)
                       : fmt::format("no website, and {}", d.status().message());
  } else {
    id.reason = "no website and no email";
  }
  if (!website_problem.empty()) id.reason = website_problem + "; " + id.reason;
  return id;
}

Result<std::string> normalize_linkedin_profile(std::string_view url) {
  std::string_view s = trim(url);
  auto reject = [&](std::string_view why) {
    return invalid_argument(fmt::format("'{}' is not a LinkedIn profile URL: {}", url, why));
  };
  if (s.empty()) return reject("it is empty");
  std::size_t scheme = s.find("://");
  if (scheme != std::string_view::npos) s.remove_prefix(scheme + 3);
  std::size_t slash = s.find('/');
  if (slash == std::string_view::npos) return reject("it has no path");
  std::string host = ascii_lower(s.substr(0, slash));
  std::size_t colon = host.find(':');
  if (colon != std::string::npos) host.resize(colon);
  if (host != "linkedin.com" && !(host.size() > 13 && host.ends_with(".linkedin.com"))) {
    return reject("the host is not linkedin.com");
  }
  std::string_view path = s.substr(slash);
  path = path.substr(0, path.find_first_of("?#"));
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start < path.size()) {
    std::size_t next = path.find('/', start);
    if (next == std::string_view::npos) next = path.size();
    if (next > start) parts.push_back(path.substr(start, next - start));
    start = next + 1;
  }
  if (parts.size() < 2) return reject("it names no profile");
  std::string kind = ascii_lower(parts[0]);
  if (kind != "in" && kind != "pub") return reject("it is not a person profile (/in/...)");
  std::string slug;
  // Appends one path part to the slug, percent-decoded and lower-cased; false when it holds a
  // character LinkedIn does not use (a decoded '/' or '%', or ';', would make the key normalise
  // to something else the second time).
  auto append_part = [&slug](std::string_view raw) {
    for (std::size_t i = 0; i < raw.size(); ++i) {
      char c = raw[i];
      if (c == '%' && i + 2 < raw.size() && std::isxdigit(static_cast<unsigned char>(raw[i + 1])) &&
          std::isxdigit(static_cast<unsigned char>(raw[i + 2]))) {
        // Percent-encoded UTF-8 folds to the same key as the raw bytes.
        c = static_cast<char>(std::stoi(std::string(raw.substr(i + 1, 2)), nullptr, 16));
        i += 2;
      }
      if (!(static_cast<unsigned char>(c) >= 0x80 || std::isalnum(static_cast<unsigned char>(c)) || c == '-' ||
            c == '_' || c == '.')) {
        return false;
      }
      slug.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
    }
    return true;
  };
  if (!append_part(parts[1])) return reject("the profile name has a character LinkedIn does not use");
  if (kind == "pub") {
    // Old public URLs: /pub/<name>/<a>/<b>/<c> -> one profile per full path.
    for (std::size_t i = 2; i < parts.size() && i < 5; ++i) {
      slug.push_back('-');
      if (!append_part(parts[i])) return reject("the profile path has a character LinkedIn does not use");
    }
  }
  return "https://www.linkedin.com/in/" + slug;
}

}  // namespace leadenrich
