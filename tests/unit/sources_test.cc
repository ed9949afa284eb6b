#include "leadenrich/sources.h"

#include <sstream>

#include <doctest/doctest.h>
#include <fmt/format.h>

using namespace leadenrich;

namespace {

struct Pulled {
  std::vector<RawLead> leads;
  std::vector<std::string> errors;  // "location: message"
};

Pulled pull_all(LeadSource& src) {
  Pulled p;
  while (auto item = src.next()) {
    if (item->lead.ok()) {
      p.leads.push_back(*item->lead);
    } else {
      p.errors.push_back(item->location + ": " + item->lead.status().message());
    }
  }
  return p;
}

Pulled pull_text(const std::string& text, FileFormat format = FileFormat::kAuto, FileSourceOptions options = {}) {
  std::istringstream in(text);
  options.format = format;
  auto src = make_stream_source(in, "in", options);
  REQUIRE(src.ok());
  return pull_all(**src);
}

std::string extra(const RawLead& l, const std::string& key) {
  for (const auto& [k, v] : l.extra) {
    if (k == key) return v.is_string() ? v.as_string() : v.dump();
  }
  return "<absent>";
}

}  // namespace

TEST_CASE("an Apollo CSV export maps its headers to lead fields and keeps the rest") {
  Pulled p = pull_text(
      "\xEF\xBB\xBF" "First Name,Last Name,Title,Company,Email,Website,Person Linkedin Url,Mobile Phone,Apollo Contact Id,Seniority\r\n"
      "Jane,Doe,VP Sales,Acme,jane@acme.com,https://acme.com,https://linkedin.com/in/jane,+1 555,ap_1,VP\r\n"
      "\"Zoë\",\"Müller, Jr.\",\"Head of \"\"Growth\"\"\",Globex,,globex.io,,,ap_2,\r\n");
  REQUIRE(p.errors.empty());
  REQUIRE(p.leads.size() == 2);
  const RawLead& jane = p.leads[0];
  CHECK(jane.lead_id == "ap_1");
  CHECK(jane.name == "Jane Doe");
  CHECK(jane.designation == "VP Sales");
  CHECK(jane.organization == "Acme");
  CHECK(jane.email == "jane@acme.com");
  CHECK(jane.website == "https://acme.com");
  CHECK(jane.linkedin_url == "https://linkedin.com/in/jane");
  CHECK(jane.phone == "+1 555");
  CHECK(extra(jane, "Seniority") == "VP");
  const RawLead& zoe = p.leads[1];
  CHECK(zoe.name == "Zoë Müller, Jr.");
  CHECK(zoe.designation == "Head of \"Growth\"");
  CHECK_FALSE(zoe.email.has_value());
  CHECK_FALSE(zoe.linkedin_url.has_value());
}

TEST_CASE("CSV rows without an id column get row-<line> ids; quoted newlines keep line numbers right") {
  Pulled p = pull_text("name,email\n\"Multi\nLine\",a@x.com\nBob,b@y.com\n\nCarol,c@z.com");
  REQUIRE(p.leads.size() == 3);
  CHECK(p.leads[0].lead_id == "row-2");
  CHECK(p.leads[0].name == "Multi\nLine");
  CHECK(p.leads[1].lead_id == "row-4");
  CHECK(p.leads[2].lead_id == "row-6");
}

TEST_CASE("--map style column mapping wins over the built-in names") {
  FileSourceOptions opts;
  opts.column_map = {{"Contact", "name"}, {"Org", "organization"}, {"Title", "role_title"}};
  Pulled p = pull_text("Contact,Org,Title,ID\nAnn,Initech,CEO,7\n", FileFormat::kCsv, opts);
  REQUIRE(p.leads.size() == 1);
  CHECK(p.leads[0].name == "Ann");
  CHECK(p.leads[0].organization == "Initech");
  CHECK_FALSE(p.leads[0].designation.has_value());
  CHECK(extra(p.leads[0], "role_title") == "CEO");
  CHECK(p.leads[0].lead_id == "7");
}

TEST_CASE("bad CSV rows are reported with file and line, and the rest is read") {
  FileSourceOptions opts;
  opts.max_field_bytes = 64;
  std::string huge(200, 'x');
  Pulled p = pull_text("lead_id,name,email\n"
                       "1,Ann,a@x.com\n"
                       "2,Bad \xFF UTF8,b@x.com\n"
                       "1,Dup,d@x.com\n"
                       "3,Too,many,cells\n"
                       "4," + huge + ",e@x.com\n"
                       "5,Eve,e@x.com\n"
                       "6,\"never closed,f@x.com\n",
                       FileFormat::kCsv, opts);
  REQUIRE(p.leads.size() == 2);
  CHECK(p.leads[0].lead_id == "1");
  CHECK(p.leads[1].lead_id == "5");
  REQUIRE(p.errors.size() == 5);
  CHECK(p.errors[0] == "in:3: invalid UTF-8 in column 'name'");
  CHECK(p.errors[1] == "in:4: duplicate lead_id '1' (first seen at in:2)");
  CHECK(p.errors[2] == "in:5: 4 cells but the header has 3 columns");
  CHECK(p.errors[3] == "in:6: a field is longer than 64 bytes");
  CHECK(p.errors[4] == "in:8: unterminated quoted field starting at line 8");
}

TEST_CASE("an empty CSV has no header and says so") {
  std::istringstream in("");
  FileSourceOptions opts;
  opts.format = FileFormat::kCsv;
  auto src = make_stream_source(in, "empty.csv", opts);
  CHECK(src.status().message() == "empty.csv: a CSV file needs a header row");
}

TEST_CASE("JSON lines: one lead per line, bad lines named by line number") {
  Pulled p = pull_text("{\"lead_id\":\"a\",\"name\":\"A\"}\n\n{not json}\n{\"name\":\"no id\"}\n[1]\n{\"lead_id\":\"b\"}\n");
  REQUIRE(p.leads.size() == 2);
  CHECK(p.leads[1].lead_id == "b");
  REQUIRE(p.errors.size() == 3);
  CHECK(p.errors[0].rfind("in:3: invalid JSON", 0) == 0);
  CHECK(p.errors[1] == "in:4: lead.lead_id: missing or empty");
  CHECK(p.errors[2] == "in:5: lead: expected a JSON object, got array");
}

TEST_CASE("a JSON array of leads, with bad items named by position") {
  Pulled p = pull_text(R"([{"lead_id": 1, "website": "acme.com"}, {"lead_id": ""}, {"lead_id": "3", "x": {"y": 1}}])");
  REQUIRE(p.leads.size() == 2);
  CHECK(p.leads[0].lead_id == "1");
  CHECK(extra(p.leads[1], "x") == R"({"y":1})");
  REQUIRE(p.errors.size() == 1);
  CHECK(p.errors[0] == "in: item 2: lead.lead_id: missing or empty");

  std::istringstream not_array(R"({"lead_id": "1"})");
  FileSourceOptions opts;
  opts.format = FileFormat::kJson;
  CHECK(make_stream_source(not_array, "one.json", opts).status().message() ==
        "one.json: expected a JSON array of leads, got object");
}

TEST_CASE("opening a missing file is kNotFound naming the path") {
  auto src = open_file_source("/nonexistent/leads.csv");
  CHECK(src.status().code() == StatusCode::kNotFound);
  CHECK(src.status().message() == "/nonexistent/leads.csv: cannot open the file");
}

TEST_CASE("the vector source yields leads in order and flags duplicates") {
  std::vector<RawLead> leads(3);
  leads[0].lead_id = "a";
  leads[1].lead_id = "b";
  leads[2].lead_id = "a";
  auto src = make_vector_source(leads, "list");
  Pulled p = pull_all(*src);
  CHECK(p.leads.size() == 2);
  REQUIRE(p.errors.size() == 1);
  CHECK(p.errors[0] == "list[2]: duplicate lead_id 'a' (first seen at list[0])");
}

TEST_CASE("a semicolon or tab separated CSV (Excel outside the US) is read by its header's separator") {
  Pulled semi = pull_text("Id;Name;Email;Company;Website;Revenue\r\n"
                          "s1;\"Müller; Jr.\";m@acme.de;Acme, GmbH;acme.de;1,5\r\n"
                          "s2;Ann;a@globex.io;Globex;globex.io;2,0\r\n");
  REQUIRE(semi.errors.empty());
  REQUIRE(semi.leads.size() == 2);
  CHECK(semi.leads[0].lead_id == "s1");
  CHECK(semi.leads[0].name == "Müller; Jr.");
  CHECK(semi.leads[0].email == "m@acme.de");
  CHECK(semi.leads[0].organization == "Acme, GmbH");
  CHECK(semi.leads[0].website == "acme.de");
  CHECK(extra(semi.leads[0], "Revenue") == "1,5");
  CHECK(semi.leads[1].lead_id == "s2");

  Pulled tab = pull_text("lead_id\tname\temail\n7\tAnn, Jr.\ta@x.com\n", FileFormat::kCsv);
  REQUIRE(tab.leads.size() == 1);
  CHECK(tab.leads[0].name == "Ann, Jr.");
  CHECK(tab.leads[0].email == "a@x.com");

  // A comma inside a quoted header name does not outvote the real separator.
  FileSourceOptions map_full_name;
  map_full_name.column_map = {{"Name, full", "name"}};
  Pulled quoted = pull_text("\"Name, full\";Email\nAnn;a@x.com\n", FileFormat::kCsv, map_full_name);
  REQUIRE(quoted.leads.size() == 1);
  CHECK(quoted.leads[0].name == "Ann");
}

TEST_CASE("a given delimiter wins over detection") {
  FileSourceOptions opts;
  opts.delimiter = '|';
  Pulled p = pull_text("lead_id|name|email\n1|Ann; Jr.|a@x.com\n", FileFormat::kCsv, opts);
  REQUIRE(p.leads.size() == 1);
  CHECK(p.leads[0].name == "Ann; Jr.");
  CHECK(p.leads[0].email == "a@x.com");
}

TEST_CASE("a header where no column maps to a lead field fails naming the columns found") {
  std::istringstream in("Kontakt|E-Post|Firma\nAnn|a@x.com|Acme\n");
  FileSourceOptions opts;
  opts.format = FileFormat::kCsv;
  auto src = make_stream_source(in, "leads.csv", opts);
  REQUIRE_FALSE(src.ok());
  CHECK(src.status().code() == StatusCode::kInvalidArgument);
  CHECK(src.status().message().find("leads.csv: no column maps to a lead field; columns found: 'Kontakt|E-Post|Firma'") == 0);
  CHECK(src.status().message().find("--delimiter") != std::string::npos);
}

TEST_CASE("a NUL byte in a field makes its row bad; NULs in the header (UTF-16) refuse the file") {
  const char kWithNul[] = "lead_id,name,email\n1,A\0B,a@x.com\n2,Carl,c@x.com\n";
  Pulled p = pull_text(std::string(kWithNul, sizeof(kWithNul) - 1), FileFormat::kCsv);
  REQUIRE(p.leads.size() == 1);
  CHECK(p.leads[0].lead_id == "2");
  REQUIRE(p.errors.size() == 1);
  CHECK(p.errors[0] == "in:2: a NUL byte in column 'name'");

  const char kUtf16[] = "n\0a\0m\0e\0,\0e\0m\0a\0i\0l\0\n\0";
  std::istringstream in(std::string(kUtf16, sizeof(kUtf16) - 1));
  FileSourceOptions opts;
  opts.format = FileFormat::kCsv;
  auto src = make_stream_source(in, "u16.csv", opts);
  REQUIRE_FALSE(src.ok());
  CHECK(src.status().message() == "u16.csv: the header row holds NUL bytes (a UTF-16 file? save it as UTF-8 CSV)");
}

TEST_CASE("duplicates are found among many ids, each naming where its id was first seen") {
  // Enough ids to grow the registry's table many times, past a MiB (from there its arrays are
  // mapped, and the old one released as a doubling empties it); ids that differ in one byte, a
  // prefix of another, binary, long and very long ones; then every tenth id again.
  std::vector<std::string> ids;
  for (int i = 0; i < 200000; ++i) ids.push_back(fmt::format("lead-{}", i));
  const std::vector<std::string> odd = {"x", "x ", "lead-1x", std::string("nul\0id", 6), "\xC3\xA9", std::string(200, 'L'),
                                       std::string(std::size_t{3} << 19, 'H')};  // longer than a block of the registry
  for (std::size_t j = 0; j < odd.size(); ++j) ids[j * 10] = odd[j];  // among those seen twice
  std::string text;
  for (const std::string& id : ids) text += Json(Json::Object{{"lead_id", Json(id)}}).dump() + "\n";
  for (std::size_t i = 0; i < ids.size(); i += 10) text += Json(Json::Object{{"lead_id", Json(ids[i])}}).dump() + "\n";
  Pulled p = pull_text(text, FileFormat::kJsonl);
  REQUIRE(p.leads.size() == ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) CHECK(p.leads[i].lead_id == ids[i]);
  REQUIRE(p.errors.size() == (ids.size() + 9) / 10);
  for (std::size_t k = 0; k < p.errors.size(); ++k) {
    std::size_t first = k * 10;
    CHECK(p.errors[k] == fmt::format("in:{}: duplicate lead_id '{}' (first seen at in:{})", ids.size() + k + 1,
                                     ids[first], first + 1));
  }
}
