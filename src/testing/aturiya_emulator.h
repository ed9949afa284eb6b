// The Aturiya half of the sandbox (contracts/aturiya.md): the signed-in user, campaigns and
// leads (paged, filtered by campaign) over a synthetic world_. Not installed.
#ifndef LEADENRICH_TESTING_ATURIYA_EMULATOR_H_
#define LEADENRICH_TESTING_ATURIYA_EMULATOR_H_

#include <httplib.h>

#include <string>

#include "internal/sandbox_data.h"
#include "leadenrich/json.h"
#include "testing/sandbox_guards.h"

namespace leadenrich::internal {

class AturiyaEmulator {
 public:
  AturiyaEmulator(SandboxShared& shared, const SandboxWorld& world) : shared_(shared), world_(world) {}
  AturiyaEmulator(const AturiyaEmulator&) = delete;
  AturiyaEmulator& operator=(const AturiyaEmulator&) = delete;

  void add_routes(httplib::Server& server);

 private:
  bool aturiya_guard(const httplib::Request& req, httplib::Response& res, const char* endpoint);
  const Json* campaign(const std::string& id) const;
  void handle_leads(const httplib::Request& req, httplib::Response& res);

  SandboxShared& shared_;
  const SandboxWorld& world_;
};

}  // namespace leadenrich::internal

#endif  // LEADENRICH_TESTING_ATURIYA_EMULATOR_H_
