// leadenrich's MCP tools: list_campaigns, list_leads, enrich_lead, enrich_leads, get_enrichment
// and estimate_cost, each a thin shell over the library (Aturiya client, Enricher, Store, the dry
// run). Described in docs/mcp.md.
#ifndef LEADENRICH_INTERNAL_MCP_TOOLS_H_
#define LEADENRICH_INTERNAL_MCP_TOOLS_H_

#include <vector>

#include "internal/mcp_session.h"
#include "leadenrich/mcp.h"

namespace leadenrich::internal::mcp {

/// The tools over `backend`; their descriptions quote the configured credits and freshness.
std::vector<Tool> make_tools(const McpBackend& backend);

/// A session of leadenrich's tools, named and described for the client.
std::unique_ptr<Session> make_session(const McpBackend& backend);

}  // namespace leadenrich::internal::mcp

#endif  // LEADENRICH_INTERNAL_MCP_TOOLS_H_
