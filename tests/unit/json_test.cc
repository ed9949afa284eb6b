#include "internal/json_write.h"
#include "leadenrich/json.h"

#include <string>

#include <doctest/doctest.h>

using namespace leadenrich;

TEST_CASE("parse and dump round-trip every JSON type with key order kept") {
  const std::string text =
      R"({"z":1,"a":[true,false,null,-0.5,"s"],"m":{"k":"v"},"big":123456789012345678,"e":{}, "arr":[]})";
  Result<Json> j = Json::parse(text);
  REQUIRE(j.ok());
  CHECK(j->dump() == R"({"z":1,"a":[true,false,null,-0.5,"s"],"m":{"k":"v"},"big":123456789012345678,"e":{},"arr":[]})");
  CHECK(j->as_object().front().first == "z");
  CHECK(Json::parse(j->dump()).value() == *j);
}

TEST_CASE("integers beyond 64 bits and exponents are kept as numbers") {
  CHECK(Json::parse("18446744073709551615").value().dump() == "18446744073709551615");
  Result<Json> e = Json::parse("1.5e3");
  REQUIRE(e.ok());
  CHECK(e->to_double() == 1500.0);
  CHECK(e->to_int() == 1500);
  CHECK(Json::parse("2.5").value().to_int() == std::nullopt);
}

TEST_CASE("strings are escaped so the output always parses back") {
  Json s(std::string("quote\" backslash\\ newline\n tab\t ctrl\x01 unicode \xC3\xA9 \xF0\x9F\x9A\x80"));
  std::string dumped = s.dump();
  CHECK(dumped == "\"quote\\\" backslash\\\\ newline\\n tab\\t ctrl\\u0001 unicode \xC3\xA9 \xF0\x9F\x9A\x80\"");
  CHECK(Json::parse(dumped).value() == s);
}

TEST_CASE("invalid UTF-8 in a string is written as U+FFFD, never passed through") {
  Json s(std::string("ok\xFF\xC3(end"));
  CHECK(s.dump() == "\"ok\xEF\xBF\xBD\xEF\xBF\xBD(end\"");
}

TEST_CASE("escaped unicode in input is decoded") {
  CHECK(Json::parse(R"("caf\u00e9 \ud83d\ude80")").value().as_string() == "caf\xC3\xA9 \xF0\x9F\x9A\x80");
}

TEST_CASE("malformed JSON returns an error that says what was wrong, never a crash") {
  struct Case {
    const char* text;
    StatusCode code;
  };
  const Case cases[] = {
      {"", StatusCode::kInvalidArgument},
      {"   ", StatusCode::kInvalidArgument},
      {"{\"a\": [1, 2", StatusCode::kDataLoss},
      {"{\"a\": \"unterminated", StatusCode::kDataLoss},
      {"{\"a\" 1}", StatusCode::kInvalidArgument},
      {"[1,]", StatusCode::kInvalidArgument},
      {"nul", StatusCode::kInvalidArgument},
      {"{} trailing", StatusCode::kInvalidArgument},
      {"\"bad \xFF utf8\"", StatusCode::kInvalidArgument},
      {"01", StatusCode::kInvalidArgument},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    Result<Json> r = Json::parse(c.text);
    CHECK_FALSE(r.ok());
    CHECK(r.status().code() == c.code);
    CHECK(r.status().message().rfind("invalid JSON", 0) == 0);
  }
}

TEST_CASE("deep nesting is refused, not a stack overflow") {
  std::string deep(100000, '[');
  Result<Json> r = Json::parse(deep);
  CHECK_FALSE(r.ok());
  std::string ok_depth = std::string(100, '[') + std::string(100, ']');
  CHECK(Json::parse(ok_depth).ok());
}

TEST_CASE("Json::number accepts only valid JSON number text") {
  CHECK(Json::number("-12.5e+3").ok());
  CHECK(Json::number("0").ok());
  CHECK_FALSE(Json::number("01").ok());
  CHECK_FALSE(Json::number("1.").ok());
  CHECK_FALSE(Json::number("NaN").ok());
  CHECK_FALSE(Json::number("").ok());
}

TEST_CASE("doubles are written in the shortest form that reads back; NaN becomes null") {
  CHECK(Json(0.1).dump() == "0.1");
  CHECK(Json(2.0).dump() == "2");
  CHECK(Json(1e21).to_double() == 1e21);
  CHECK(Json(std::numeric_limits<double>::quiet_NaN()).is_null());
}

TEST_CASE("find returns the first member and nullptr for non-objects") {
  Json j = Json::parse(R"({"a":1,"a":2})").value();
  REQUIRE(j.find("a") != nullptr);
  CHECK(j.find("a")->to_int() == 1);
  CHECK(j.find("b") == nullptr);
  CHECK(Json(3).find("a") == nullptr);
}

TEST_CASE("negative zero is written as 0, so parse and dump agree (found by fuzzing)") {
  Json j = Json::parse("-0e8").value();
  CHECK(j.dump() == "0");
  CHECK(Json::parse(j.dump()).value().dump() == "0");
}

namespace {

// The escaper's reference for ASCII: one byte at a time, as the escaping rules read.
std::string escaped_byte_by_byte(std::string_view s) {
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20 || c == 0x7F) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  return out + "\"";
}

}  // namespace

TEST_CASE("every ASCII byte is escaped right at every position of a long plain run") {
  // Long plain text is copied eight bytes at a time: each special byte must be caught wherever
  // it falls in a word, and the bytes next to it (0x1F/0x20, '!'/'#', '['/']', 0x7E) must not be.
  for (int c = 0; c < 0x80; ++c) {
    for (std::size_t at = 0; at < 19; ++at) {
      std::string s(19, 'a');
      s[at] = static_cast<char>(c);
      std::string out;
      append_json_string(out, s);
      CAPTURE(c);
      CAPTURE(at);
      CHECK(out == escaped_byte_by_byte(s));
    }
  }
  std::string out;
  append_json_string(out, "plain text, then \xC3\xA9 and \xF0\x9F\x9A\x80 and a bad \xC3( byte");
  CHECK(out == "\"plain text, then \xC3\xA9 and \xF0\x9F\x9A\x80 and a bad \xEF\xBF\xBD( byte\"");
}
