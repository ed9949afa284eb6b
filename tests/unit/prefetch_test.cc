// The store reads of a block of leads: one get_many for the distinct keys, each answer taken once.
#include <doctest/doctest.h>

#include "internal/prefetch.h"

using namespace leadenrich;
using namespace leadenrich::internal;

namespace {

struct Reads {
  std::vector<std::vector<LookupKey>> calls;
  CacheHooks hooks() {
    CacheHooks h;
    h.get_many = [this](const std::vector<LookupKey>& keys) {
      calls.push_back(keys);
      std::vector<std::optional<LookupOutcome>> out(keys.size());
      for (std::size_t i = 0; i < keys.size(); ++i) {
        if (keys[i].entity.rfind("company:hit", 0) != 0) continue;  // the others are not stored
        LookupOutcome o;
        o.result.status = SignalStatus::kFound;
        o.result.source = keys[i].entity;
        out[i] = o;
      }
      return out;
    };
    return h;
  }
};

}  // namespace

TEST_CASE("a block's keys are read in one call, each distinct key once, and each answer is taken once") {
  Reads reads;
  Prefetch p;
  p.read(reads.hooks(), {{Signal::kNews, "company:hit.com"}, {Signal::kFunding, "company:hit.com"},
                         {Signal::kNews, "company:hit.com"}, {Signal::kNews, "company:miss.com"}});
  REQUIRE(reads.calls.size() == 1);
  CHECK(reads.calls[0].size() == 3);
  CHECK(p.size() == 3);
  std::optional<LookupOutcome> out;
  REQUIRE(p.take("company:hit.com", Signal::kNews, out));
  REQUIRE(out);
  CHECK(out->result.source == "company:hit.com");
  CHECK_FALSE(p.take("company:hit.com", Signal::kNews, out));  // taken
  out.reset();
  REQUIRE(p.take("company:miss.com", Signal::kNews, out));  // read, and not in the store
  CHECK_FALSE(out);
  CHECK_FALSE(p.take("company:other.com", Signal::kNews, out));  // never read: the caller reads it
  CHECK_FALSE(p.take("company:miss.com", Signal::kFunding, out));
  p.clear();
  CHECK_FALSE(p.take("company:hit.com", Signal::kFunding, out));
}

TEST_CASE("without get_many, or when it answers the wrong number of keys, nothing is prefetched") {
  Prefetch p;
  std::optional<LookupOutcome> out;
  p.read(CacheHooks{}, {{Signal::kNews, "company:hit.com"}});
  CHECK_FALSE(p.take("company:hit.com", Signal::kNews, out));
  CacheHooks short_answer;
  short_answer.get_many = [](const std::vector<LookupKey>&) { return std::vector<std::optional<LookupOutcome>>(1); };
  p.read(short_answer, {{Signal::kNews, "company:a.com"}, {Signal::kNews, "company:b.com"}});
  CHECK_FALSE(p.take("company:a.com", Signal::kNews, out));
  CHECK(p.size() == 0);
}
