// leadenrich as Model Context Protocol tools, for AI agents: over stdio (`leadenrich mcp`) and
// over streamable HTTP (`/mcp` in leadenrich-server). Tools and transports: docs/mcp.md.
#ifndef LEADENRICH_MCP_H_
#define LEADENRICH_MCP_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "leadenrich/status.h"

namespace leadenrich {

class AturiyaConnection;  // aturiya.h
class Enricher;           // engine.h
class Store;              // store.h

/// What the tools call. `aturiya` may be null (then the campaign tools and enrichment by lead id
/// answer with an error result); `enricher` is required; `store` may be null (then results are
/// not kept and get_enrichment finds nothing).
struct McpBackend {
  std::shared_ptr<AturiyaConnection> aturiya;
  std::shared_ptr<Enricher> enricher;
  std::shared_ptr<Store> store;
  /// Results are marked as sandbox data.
  bool sandbox = false;
  /// Leads per enrich_leads or estimate_cost call, at most.
  std::size_t max_leads = 1000;
};

/// Serves MCP over a pair of file descriptors (stdin and stdout): one JSON-RPC message per line
/// in each direction. Tool calls run on their own threads, so a notifications/cancelled read
/// while one runs stops it. Returns when `in_fd` ends (calls under way are finished and answered
/// first) or after a write to `out_fd` fails (calls under way are cancelled). `log` gets one line per problem (never on
/// `out_fd`, never a secret).
Status serve_mcp_stdio(const McpBackend& backend, int in_fd, int out_fd,
                       const std::function<void(const std::string&)>& log = nullptr);

}  // namespace leadenrich

#endif  // LEADENRICH_MCP_H_
