// The capacity controller: learns the org's P1 capacity from admission answers, keeps in flight
// just under it, backs off on admissions at P2, holds when P2 is exhausted.
#include <doctest/doctest.h>

#include "internal/capacity.h"

using namespace leadenrich::internal;

TEST_CASE("before any answer only the first window goes out, under any ceiling") {
  CHECK(CapacityController(0).limit() == CapacityController::kInitialWindow);
  CHECK(CapacityController(5).limit() == 5);
  CHECK_FALSE(CapacityController(0).learned());
}

TEST_CASE("in flight at send plus P1 remaining is the capacity; the limit sits just under it") {
  CapacityController c(0);
  c.on_admission(20, 20, Admission{1, 130, 280});  // 20 in flight, 130 more allowed: 150
  REQUIRE(c.learned());
  CHECK(*c.estimate() == 150);
  CHECK(c.limit() == 147);  // 2% under
  CapacityController small(0);
  small.on_admission(9, 9, Admission{1, 51, 111});
  CHECK(small.limit() == 59);
}

TEST_CASE("the ceiling bounds what is learned") {
  CapacityController c(100);
  c.on_admission(20, 20, Admission{1, 580, 1180});
  CHECK(*c.estimate() == 600);
  CHECK(c.limit() == 100);
}

TEST_CASE("a late answer cannot raise the estimate above a lower recent one; another client lowers it") {
  CapacityController c(0);
  c.on_admission(20, 20, Admission{1, 130, 280});
  c.on_admission(150, 9, Admission{1, 10, 150});  // answers raced: 160 looks possible
  CHECK(*c.estimate() == 150);
  c.on_admission(100, 9, Admission{1, 0, 100});  // someone else holds 50 of the org's P1
  CHECK(*c.estimate() == 100);
  CHECK(c.limit() < 100);
}

TEST_CASE("admitted at P2: the limit backs off below what was in flight, and recovers while P1 has room") {
  CapacityController c(0);
  c.on_admission(20, 20, Admission{1, 180, 400});
  std::size_t before = c.limit();
  c.on_admission(190, 10, Admission{2, 0, 100});
  std::size_t after = c.limit();
  CHECK(after < 180);
  CHECK(after < before);
  for (int i = 0; i < 20; ++i) c.on_admission(100, 9, Admission{1, 80, 300});
  CHECK(c.limit() > after);
  CHECK(c.limit() <= 180);
}

TEST_CASE("P2 exhausted holds submissions until a run finishes") {
  CapacityController c(0);
  c.on_admission(50, 10, Admission{3, 0, 0});
  CHECK(c.hold());
  c.on_release();
  CHECK_FALSE(c.hold());
}

TEST_CASE("without capacity headers the window grows with what is answered, up to its maximum") {
  CapacityController c(0);
  c.on_admission(20, 20, Admission{});
  CHECK(c.limit() == 40);
  for (int i = 0; i < 50; ++i) c.on_admission(40, 20, Admission{});
  CHECK(c.limit() == CapacityController::kBlindMaximum);
  CHECK_FALSE(c.learned());
  CapacityController ceiling(500);  // an operator's setting is what there is to go by
  for (int i = 0; i < 50; ++i) ceiling.on_admission(40, 20, Admission{});
  CHECK(ceiling.limit() == 500);
}
