// Who a lead is about: the company (a normalised domain) and the person (a canonical LinkedIn
// profile URL). These keys decide what is looked up once and shared.
#ifndef LEADENRICH_IDENTITY_H_
#define LEADENRICH_IDENTITY_H_

#include <optional>
#include <string>
#include <string_view>

#include "leadenrich/lead.h"
#include "leadenrich/status.h"

namespace leadenrich {

/// A host from a website value: trims, lowercases, strips scheme, `mailto:`, user info, `www.`,
/// port, path, query, fragment and trailing dot; converts internationalised names to their
/// ASCII (punycode) form. Returns kInvalidArgument when the value is not a host name (empty,
/// "N/A", an IP address, no dot, bad characters).
Result<std::string> normalize_domain(std::string_view website);

/// The registrable part of a host: "eu.mail.acme.co.uk" -> "acme.co.uk".
std::string registrable_domain(std::string_view host);

/// True for free-mail and personal providers (gmail.com, yahoo.*, outlook.*, gmx.*, ...).
bool is_free_mail_domain(std::string_view domain);

/// The domain part of an email address, normalised, or kInvalidArgument.
Result<std::string> email_domain(std::string_view email);

/// Where a lead's company identity came from.
struct CompanyIdentity {
  std::optional<std::string> domain;  ///< the company key, when one could be had
  std::string source;                 ///< "website", "email", or "" when none
  std::string reason;                 ///< why there is none, when domain is empty
};

/// The company key of a lead: its website when usable, else its email's registrable domain
/// unless that is a free-mail provider.
CompanyIdentity company_identity(const RawLead& lead);

/// Canonical LinkedIn profile URL "https://www.linkedin.com/in/<slug>": any scheme, country
/// sub-domain, case, trailing slash, query, fragment or locale suffix folds to one form.
/// Returns kInvalidArgument for anything that is not a LinkedIn person profile.
Result<std::string> normalize_linkedin_profile(std::string_view url);

}  // namespace leadenrich

#endif  // LEADENRICH_IDENTITY_H_
