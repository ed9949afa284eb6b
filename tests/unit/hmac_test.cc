// SHA-256 against FIPS 180-4's examples and HMAC-SHA256 against RFC 4231's test cases.
#include <doctest/doctest.h>

#include <string>

#include "internal/hmac_sha256.h"

using leadenrich::internal::hmac_sha256;
using leadenrich::internal::sha256;
using leadenrich::internal::to_hex;

TEST_CASE("sha256 of the FIPS 180-4 examples, and of a message over several blocks") {
  CHECK(to_hex(sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(to_hex(sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(to_hex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(to_hex(sha256(std::string(1000000, 'a'))) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("hmac_sha256 gives RFC 4231's results for its test cases 1 to 7") {
  std::string key4;
  for (int i = 1; i <= 25; ++i) key4 += static_cast<char>(i);
  const std::string key_large(131, '\xaa');
  struct Case {
    std::string key;
    std::string data;
    std::string mac;
  };
  const Case cases[] = {
      {std::string(20, '\x0b'), "Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {"Jefe", "what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {std::string(20, '\xaa'), std::string(50, '\xdd'),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {key4, std::string(50, '\xcd'), "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
      {key_large, "Test Using Larger Than Block-Size Key - Hash Key First",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {key_large,
       "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be "
       "hashed before being used by the HMAC algorithm.",
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.data);
    CHECK(to_hex(hmac_sha256(c.key, c.data)) == c.mac);
  }
  // Test case 5: the output truncated to 128 bits.
  CHECK(to_hex(hmac_sha256(std::string(20, '\x0c'), "Test With Truncation")).substr(0, 32) ==
        "a3b6167473100ee06e0c796c2955552b");
}

TEST_CASE("a key of exactly one block is used as it is, one byte more is hashed first") {
  std::string block(64, 'k');
  CHECK(hmac_sha256(block, "m") != hmac_sha256(block + "k", "m"));
  CHECK(hmac_sha256(std::string(65, 'k'), "m") == hmac_sha256(std::string(
      reinterpret_cast<const char*>(sha256(std::string(65, 'k')).data()), 32), "m"));
}
