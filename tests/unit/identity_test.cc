#include "leadenrich/identity.h"

#include <doctest/doctest.h>

using namespace leadenrich;

TEST_CASE("website values normalise to one company domain") {
  struct Case {
    const char* in;
    const char* want;  // nullptr: rejected
  };
  const Case cases[] = {
      {"acme.com", "acme.com"},
      {"  Acme.COM  ", "acme.com"},
      {"https://acme.com", "acme.com"},
      {"http://www.acme.com/", "acme.com"},
      {"HTTPS://WWW.ACME.COM/about?x=1#top", "acme.com"},
      {"www.acme.com", "acme.com"},
      {"acme.com:8080/path", "acme.com"},
      {"acme.com.", "acme.com"},
      {"//acme.com/x", "acme.com"},
      {"mailto:jane@acme.com", "acme.com"},
      {"https://user:pw@acme.com/", "acme.com"},
      {"blog.acme.io", "blog.acme.io"},
      {"https://shop.acme.co.uk/en", "shop.acme.co.uk"},
      {"acme.co.uk", "acme.co.uk"},
      {"www.www.acme.com", "acme.com"},
      {"https://münchen.de", "xn--mnchen-3ya.de"},
      {"xn--mnchen-3ya.de", "xn--mnchen-3ya.de"},
      {"acme.com?ref=apollo", "acme.com"},
      {"acme-labs.com", "acme-labs.com"},
      {"123.io", "123.io"},
      {"", nullptr},
      {"   ", nullptr},
      {"N/A", nullptr},
      {"none", nullptr},
      {"-", nullptr},
      {"localhost", nullptr},
      {"http://", nullptr},
      {"192.168.1.1", nullptr},
      {"http://[::1]/", nullptr},
      {"acme..com", nullptr},
      {"-acme.com", nullptr},
      {"acme_corp.com", nullptr},
      {"acme.com:port", nullptr},
      {"acme.c", nullptr},
      {"ht!tp://acme.com", nullptr},
  };
  for (const Case& c : cases) {
    CAPTURE(c.in);
    Result<std::string> got = normalize_domain(c.in);
    if (c.want == nullptr) {
      CHECK_FALSE(got.ok());
      if (!got.ok()) CHECK(got.status().message().find("is not a website") != std::string::npos);
    } else {
      REQUIRE(got.ok());
      CHECK(*got == c.want);
    }
  }
}

TEST_CASE("non-ASCII upper case letters are punycoded as written (no Unicode case folding)") {
  Result<std::string> got = normalize_domain("MÜNCHEN.de");
  REQUIRE(got.ok());
  CHECK(got->rfind("xn--", 0) == 0);
}

TEST_CASE("free-mail providers and their country families are recognised") {
  const char* free_mail[] = {"gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "ymail.com",
                             "hotmail.com", "hotmail.de", "outlook.com", "outlook.fr", "live.com", "live.co.uk",
                             "msn.com", "icloud.com", "me.com", "mac.com", "aol.com", "proton.me",
                             "protonmail.com", "gmx.de", "gmx.net", "gmx.com", "web.de", "yandex.ru",
                             "yandex.com", "mail.ru", "qq.com", "163.com", "zoho.com", "GMAIL.COM",
                             "gmail.com.", "free.fr", "orange.fr", "t-online.de", "libero.it", "fastmail.com"};
  for (const char* d : free_mail) {
    CAPTURE(d);
    CHECK(is_free_mail_domain(d));
  }
  const char* company[] = {"acme.com", "gmailer.io", "free.io", "orange-labs.com", "livestream.com",
                           "mail.acme.com", "outlooksoftware.com", "yahoo-finance-partner.io"};
  for (const char* d : company) {
    CAPTURE(d);
    CHECK_FALSE(is_free_mail_domain(d));
  }
}

TEST_CASE("registrable domain drops sub-domains, keeping country second levels") {
  CHECK(registrable_domain("eu.mail.acme.com") == "acme.com");
  CHECK(registrable_domain("mail.acme.co.uk") == "acme.co.uk");
  CHECK(registrable_domain("acme.com") == "acme.com");
  CHECK(registrable_domain("acme.co.uk") == "acme.co.uk");
}

TEST_CASE("company identity comes from the website, else a work email, else says why not") {
  RawLead lead;
  lead.lead_id = "1";
  lead.website = "https://www.Acme.com/about";
  lead.email = "jane@globex.io";
  CompanyIdentity id = company_identity(lead);
  CHECK(id.domain == "acme.com");
  CHECK(id.source == "website");

  lead.website.reset();
  lead.email = "Jane.Doe@EU.Globex.io";
  id = company_identity(lead);
  CHECK(id.domain == "globex.io");
  CHECK(id.source == "email");

  lead.email = "jane@gmail.com";
  id = company_identity(lead);
  CHECK_FALSE(id.domain.has_value());
  CHECK(id.reason == "no website, and the email is at free-mail provider gmail.com");

  lead.website = "N/A";
  lead.email = "bob@initech.com";
  id = company_identity(lead);
  CHECK(id.domain == "initech.com");

  lead.website.reset();
  lead.email.reset();
  id = company_identity(lead);
  CHECK_FALSE(id.domain.has_value());
  CHECK(id.reason == "no website and no email");

  lead.email = "not-an-email";
  CHECK(company_identity(lead).reason == "no website, and 'not-an-email' is not an email address");
}

TEST_CASE("LinkedIn profile URLs fold to one canonical form") {
  struct Case {
    const char* in;
    const char* want;
  };
  const Case cases[] = {
      {"https://www.linkedin.com/in/jane-doe", "https://www.linkedin.com/in/jane-doe"},
      {"http://linkedin.com/in/Jane-Doe/", "https://www.linkedin.com/in/jane-doe"},
      {"linkedin.com/in/jane-doe?trk=public_profile", "https://www.linkedin.com/in/jane-doe"},
      {"https://uk.linkedin.com/in/jane-doe/en", "https://www.linkedin.com/in/jane-doe"},
      {" https://www.linkedin.com/in/jane-doe#about ", "https://www.linkedin.com/in/jane-doe"},
      {"https://www.linkedin.com/in/j%C3%BCrgen-m", "https://www.linkedin.com/in/j\xC3\xBCrgen-m"},
      {"https://www.linkedin.com/in/jürgen-m", "https://www.linkedin.com/in/j\xC3\xBCrgen-m"},
      {"https://www.linkedin.com/IN/jane_doe.1", "https://www.linkedin.com/in/jane_doe.1"},
      {"https://www.linkedin.com/pub/jane-doe/12/345/678", "https://www.linkedin.com/in/jane-doe-12-345-678"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.in);
    Result<std::string> got = normalize_linkedin_profile(c.in);
    REQUIRE(got.ok());
    CHECK(*got == c.want);
  }
  const char* rejected[] = {"", "https://www.linkedin.com/company/acme", "https://twitter.com/in/jane",
                            "https://www.linkedin.com/in/", "https://notlinkedin.com/in/jane",
                            "https://www.linkedin.com/in/jane doe", "jane-doe",
                            "https://www.linkedin.com/in/jane%2Fdoe", "https://www.linkedin.com/in/a%25b",
                            // The old /pub/ form's further parts follow the same rule (found by fuzzing:
                            // a ';' there made a key that did not normalise to itself).
                            "linkedin.com/pub/jane/i;/2/3", "linkedin.com/pub/jane/1/%2F/3"};
  for (const char* r : rejected) {
    CAPTURE(r);
    CHECK_FALSE(normalize_linkedin_profile(r).ok());
  }
}
