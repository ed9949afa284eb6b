#include "internal/openapi.h"

#include <string_view>

#include <fmt/format.h>

#include "internal/server_jobs.h"
#include "leadenrich/version.h"
#include "signals/signal_codec.h"

namespace leadenrich::internal {
namespace {

// Kept by hand next to the routes in server.cc; tests/server/test_server.py checks that every
// route answers as documented and that the document names exactly the routes served.
// The signals and their value schemas come from the table of signals (src/signals/).
constexpr const char* kDocument = R"json({
  "openapi": "3.0.3",
  "info": {
    "title": "leadenrich-server",
    "version": "@VERSION@",
    "description": "Enriches B2B sales leads with company and person signals for an SDR agent. Two APIs: leadenrich's own under /v1/ (paging, stored results, batches, per-signal statuses and provenance; errors as {\"error\": {\"code\", \"message\"}}), and the original pipeline's four routes under /api/, in its shapes and FastAPI's error bodies ({\"detail\": ...}). Every route but /api/health, /openapi.json, /docs and the web UI needs Authorization: Bearer <key> when the server has API keys."
  },
  "tags": [
    {"name": "leadenrich", "description": "leadenrich's own API"},
    {"name": "original", "description": "The original pipeline's routes, in its exact shapes"},
    {"name": "operations", "description": "Health, description, metrics"}
  ],
  "components": {
    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    "parameters": {
      "LeadId": {"name": "id", "in": "path", "required": true, "example": "lead_1_0001", "description": "A lead id: letters, digits and _ . : @ -, at most 128 characters.", "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.:@-]{1,128}$"}},
      "CampaignId": {"name": "id", "in": "path", "required": true, "example": "cmp_0001", "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.:@-]{1,128}$"}}
    },
    "schemas": {
      "Error": {
        "type": "object", "required": ["error"],
        "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
          "code": {"type": "string", "description": "invalid_argument, too_many_leads, unauthorized, not_found, payload_too_large, upstream_error, upstream_timeout, unavailable, internal"},
          "message": {"type": "string"}}}}
      },
      "RawLead": {
        "type": "object", "required": ["lead_id"], "additionalProperties": true,
        "description": "An Aturiya lead: lead_id required, the other 15 fields optional; unknown keys are kept and returned unchanged.",
        "properties": {
          "lead_id": {"type": "string"}, "agent_id": {"type": "string"}, "campaign_id": {"type": "string"},
          "task_id": {"type": "string"}, "task_status": {"type": "string", "enum": ["approved", "pending", "rejected"]},
          "campaign_name": {"type": "string"}, "name": {"type": "string"}, "email": {"type": "string"},
          "phone": {"type": "string"}, "organization": {"type": "string"}, "designation": {"type": "string"},
          "linkedin_url": {"type": "string"}, "website": {"type": "string", "nullable": true},
          "status": {"type": "string", "enum": ["approved", "pending", "rejected"]},
          "type": {"type": "string", "enum": ["old", "new"]}, "created_at": {"type": "string"}
        },
        "example": {"lead_id": "lead_1_0001", "name": "Ada Example", "organization": "Example Inc", "website": "https://example.com", "linkedin_url": "https://www.linkedin.com/in/ada-example"}
      },
      "SignalEntry": {
        "type": "object", "required": ["status", "reason", "source", "fetched_at", "from_cache", "value"],
        "properties": {
          "status": {"type": "string", "enum": ["found", "no_result", "skipped", "failed", "disabled", "budget_exhausted"]},
          "reason": {"nullable": true, "type": "object", "properties": {"code": {"type": "string"}, "message": {"type": "string"}}},
          "source": {"type": "string", "description": "the pipe id that answered"},
          "fetched_at": {"type": "string", "nullable": true, "format": "date-time"},
          "from_cache": {"type": "boolean"},
          "value": {"nullable": true, "type": "object", "description": "the typed signal value (docs/output.md)"}
        }
      },
@SIGNAL_SCHEMAS@
      "EnrichedLead": {
        "type": "object",
        "required": ["lead", "company_key", "person_key", "signals", "signals_found", "signals_missed", "quality_score", "enriched_at", "provider_run_ids", "billed_lookups", "estimated_credits", "sandbox"],
        "properties": {
          "lead": {"$ref": "#/components/schemas/RawLead"},
          "company_key": {"type": "string", "nullable": true},
          "person_key": {"type": "string", "nullable": true},
          "signals": @SIGNALS@,
          "signals_found": {"type": "array", "items": {"type": "string"}},
          "signals_missed": {"type": "array", "items": {"type": "string"}},
          "quality_score": {"type": "integer", "minimum": 0, "maximum": 100},
          "enriched_at": {"type": "string", "nullable": true, "format": "date-time"},
          "provider_run_ids": {"type": "array", "items": {"type": "string"}},
          "billed_lookups": {"type": "integer"},
          "estimated_credits": {"type": "number"},
          "sandbox": {"type": "boolean"}
        }
      },
      "Detail": {
        "type": "object", "required": ["detail"], "description": "An error under /api/, as FastAPI writes it",
        "properties": {"detail": {"type": "string"}}
      },
      "HTTPValidationError": {
        "type": "object", "required": ["detail"],
        "properties": {"detail": {"type": "array", "items": {"type": "object", "required": ["loc", "msg", "type"], "properties": {
          "loc": {"type": "array", "items": {"oneOf": [{"type": "string"}, {"type": "integer"}]}},
          "msg": {"type": "string"}, "type": {"type": "string"}}}}}
      },
      "OriginalRawLead": {
        "type": "object", "required": ["lead_id", "agent_id", "campaign_id", "name"],
        "description": "The original's RawLead: four required strings, the others string or null; unknown keys are ignored.",
        "properties": {
          "lead_id": {"type": "string"}, "agent_id": {"type": "string"}, "campaign_id": {"type": "string"}, "name": {"type": "string"},
          "task_id": {"type": "string", "nullable": true}, "task_status": {"type": "string", "nullable": true},
          "campaign_name": {"type": "string", "nullable": true}, "email": {"type": "string", "nullable": true},
          "phone": {"type": "string", "nullable": true}, "organization": {"type": "string", "nullable": true},
          "designation": {"type": "string", "nullable": true}, "linkedin_url": {"type": "string", "nullable": true},
          "website": {"type": "string", "nullable": true}, "status": {"type": "string", "nullable": true},
          "type": {"type": "string", "nullable": true}, "created_at": {"type": "string", "nullable": true}
        },
        "example": {"lead_id": "lead_1_0001", "agent_id": "agent_sandbox", "campaign_id": "cmp_0001", "name": "Ada Example", "organization": "Example Inc", "website": "https://example.com", "linkedin_url": "https://www.linkedin.com/in/ada-example"}
      },
      "OriginalEnrichedLead": {
        "type": "object",
        "required": ["lead_id", "name", "email", "phone", "organization", "designation", "linkedin_url", "campaign_id", "campaign_name", "company_overview", "tech_stack", "funding", "linkedin_posts", "enrichment_metadata"],
        "properties": {
          "lead_id": {"type": "string"}, "name": {"type": "string", "nullable": true}, "email": {"type": "string", "nullable": true},
          "phone": {"type": "string", "nullable": true}, "organization": {"type": "string", "nullable": true},
          "designation": {"type": "string", "nullable": true}, "linkedin_url": {"type": "string", "nullable": true},
          "campaign_id": {"type": "string", "nullable": true}, "campaign_name": {"type": "string", "nullable": true},
          "company_overview": {"type": "object", "nullable": true, "description": "every value a string", "properties": {
            "description": {"type": "string", "nullable": true}, "industry": {"type": "string", "nullable": true},
            "headcount": {"type": "string", "nullable": true}, "founded_year": {"type": "string", "nullable": true},
            "region": {"type": "string", "nullable": true}, "estimated_revenue": {"type": "string", "nullable": true}}},
          "tech_stack": {"type": "array", "nullable": true, "items": {"type": "string"}},
          "funding": {"type": "object", "nullable": true, "properties": {
            "total_funding_usd": {"type": "integer", "nullable": true},
            "funding_history": {"type": "array", "nullable": true, "items": {"type": "object"}},
            "news_summary": {"type": "string", "nullable": true}}},
          "linkedin_posts": {"type": "array", "nullable": true, "maxItems": 5, "items": {"type": "string"}},
          "enrichment_metadata": {"type": "object", "required": ["enriched_at", "signals_found", "signals_missed", "pipe0_run_id"], "properties": {
            "enriched_at": {"type": "string", "description": "UTC, as Python's isoformat() of a naive time: 2026-01-31T12:00:00.000000"},
            "signals_found": {"type": "array", "items": {"type": "string"}, "description": "leadenrich signal names"},
            "signals_missed": {"type": "array", "items": {"type": "string"}},
            "pipe0_run_id": {"type": "string", "nullable": true}}}
        }
      },
      "EnrichmentSummary": {
        "type": "object", "nullable": true,
        "properties": {
          "quality_score": {"type": "integer"},
          "signals_found": {"type": "array", "items": {"type": "string"}},
          "signals_missed": {"type": "array", "items": {"type": "string"}},
          "enriched_at": {"type": "string", "nullable": true},
          "statuses": {"type": "object", "additionalProperties": {"type": "string"}}
        }
      }
    },
    "responses": {
      "BadRequest": {"description": "Invalid id, parameter or body", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Unauthorized": {"description": "Missing or invalid API key", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "NotFound": {"description": "No such item", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "TooLarge": {"description": "Request body over the limit", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "NotJson": {"description": "Without API keys only: a body that is not Content-Type: application/json", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Upstream": {"description": "Aturiya or pipe0 failed", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Unavailable": {"description": "Aturiya is not configured", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Timeout": {"description": "Aturiya or pipe0 did not answer in time", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "DetailUnauthorized": {"description": "Missing or invalid API key (only when the server has keys)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Detail"}}}},
      "DetailUpstream": {"description": "Aturiya or pipe0 failed", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Detail"}}}},
      "DetailUnavailable": {"description": "Aturiya is not configured", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Detail"}}}},
      "DetailTimeout": {"description": "Aturiya or pipe0 did not answer in time", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Detail"}}}}
    }
  },
  "security": [{"bearer": []}],
  "paths": {
    "/api/health": {
      "get": {
        "tags": ["operations"], "summary": "Liveness; needs no key (also the original's health route)", "security": [],
        "responses": {"200": {"description": "Serving", "content": {"application/json": {"schema": {"type": "object", "properties": {
          "status": {"type": "string", "enum": ["ok"]}, "version": {"type": "string"}, "sandbox": {"type": "boolean"},
          "auth": {"type": "boolean"}, "max_batch": {"type": "integer"}}}}}}}
      }
    },
    "/api/campaigns": {
      "get": {
        "tags": ["original"], "summary": "The original's campaign list: a plain list of Aturiya's campaigns",
        "responses": {
          "200": {"description": "Campaigns", "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object", "required": ["id", "name"], "additionalProperties": true, "properties": {"id": {"type": "string"}, "name": {"type": "string"}}}}}}},
          "401": {"$ref": "#/components/responses/DetailUnauthorized"}, "502": {"$ref": "#/components/responses/DetailUpstream"},
          "503": {"$ref": "#/components/responses/DetailUnavailable"}, "504": {"$ref": "#/components/responses/DetailTimeout"}
        }
      }
    },
    "/api/campaigns/{campaign_id}/leads": {
      "get": {
        "tags": ["original"], "summary": "The original's lead list: every raw lead of the campaign (all Aturiya pages) in one plain list",
        "parameters": [{"name": "campaign_id", "in": "path", "required": true, "example": "cmp_0001", "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.:@-]{1,128}$"}}],
        "responses": {
          "200": {"description": "Every lead", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/OriginalRawLead"}}}}},
          "400": {"description": "Invalid campaign id", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Detail"}}}},
          "401": {"$ref": "#/components/responses/DetailUnauthorized"},
          "404": {"description": "No such campaign", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Detail"}}}},
          "502": {"$ref": "#/components/responses/DetailUpstream"}, "503": {"$ref": "#/components/responses/DetailUnavailable"},
          "504": {"$ref": "#/components/responses/DetailTimeout"}
        }
      }
    },
    "/api/leads/{lead_id}/enrich": {
      "post": {
        "tags": ["original"], "summary": "The original's enrich: the body is the lead; the answer the original's EnrichedLead",
        "description": "The path's lead_id is not used (the body is the lead), as in the original. The result is stored as the lead's last result (GET /v1/leads/{id}/enrichment).",
        "parameters": [{"name": "lead_id", "in": "path", "required": true, "example": "lead_1_0001", "description": "not used: the body is the lead", "schema": {"type": "string"}}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OriginalRawLead"}}}},
        "responses": {
          "200": {"description": "The enriched lead, in the original's shape", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OriginalEnrichedLead"}}}},
          "401": {"$ref": "#/components/responses/DetailUnauthorized"},
          "422": {"description": "The body is not JSON, not an object, or misses or mistypes a field", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}}},
          "502": {"$ref": "#/components/responses/DetailUpstream"}, "504": {"$ref": "#/components/responses/DetailTimeout"}
        }
      }
    },
    "/v1/campaigns": {
      "get": {
        "tags": ["leadenrich"], "summary": "The agent's campaigns in Aturiya",
        "responses": {
          "200": {"description": "Campaigns", "content": {"application/json": {"schema": {"type": "object", "properties": {
            "campaigns": {"type": "array", "items": {"type": "object", "required": ["id", "name"], "additionalProperties": true, "properties": {"id": {"type": "string"}, "name": {"type": "string"}}}}}}}}},
          "401": {"$ref": "#/components/responses/Unauthorized"}, "502": {"$ref": "#/components/responses/Upstream"},
          "503": {"$ref": "#/components/responses/Unavailable"}, "504": {"$ref": "#/components/responses/Timeout"}
        }
      }
    },
    "/v1/campaigns/{id}/leads": {
      "get": {
        "tags": ["leadenrich"], "summary": "One page of a campaign's leads, each with a summary of its last enrichment",
        "parameters": [
          {"$ref": "#/components/parameters/CampaignId"},
          {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
          {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}, "description": "at most the server's max_per_page (200 by default)"}
        ],
        "responses": {
          "200": {"description": "A page", "content": {"application/json": {"schema": {"type": "object", "properties": {
            "campaign_id": {"type": "string"}, "page": {"type": "integer"}, "per_page": {"type": "integer"}, "has_next": {"type": "boolean"},
            "leads": {"type": "array", "items": {"type": "object", "properties": {"lead": {"$ref": "#/components/schemas/RawLead"}, "enrichment": {"$ref": "#/components/schemas/EnrichmentSummary"}}}},
            "bad_leads": {"type": "array", "items": {"type": "object", "properties": {"index": {"type": "integer"}, "error": {"type": "string"}}}}}}}}},
          "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
          "404": {"$ref": "#/components/responses/NotFound"}, "502": {"$ref": "#/components/responses/Upstream"},
          "503": {"$ref": "#/components/responses/Unavailable"}, "504": {"$ref": "#/components/responses/Timeout"}
        }
      }
    },
    "/v1/leads/{id}/enrich": {
      "post": {
        "tags": ["leadenrich"], "summary": "Enrich one lead now; the result is stored and returned",
        "description": "With no body the lead is fetched from Aturiya by id; with a body (a raw lead) its lead_id must equal the path's. Requests needing a company another request is looking up wait for that lookup instead of repeating it.",
        "parameters": [{"$ref": "#/components/parameters/LeadId"}],
        "requestBody": {"required": false, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RawLead"}}}},
        "responses": {
          "200": {"description": "The enriched lead", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EnrichedLead"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
          "404": {"$ref": "#/components/responses/NotFound"}, "413": {"$ref": "#/components/responses/TooLarge"}, "415": {"$ref": "#/components/responses/NotJson"},
          "502": {"$ref": "#/components/responses/Upstream"}, "503": {"$ref": "#/components/responses/Unavailable"},
          "504": {"$ref": "#/components/responses/Timeout"}
        }
      }
    },
    "/v1/leads/{id}/enrichment": {
      "get": {
        "tags": ["leadenrich"], "summary": "The last stored enrichment of a lead",
        "parameters": [{"$ref": "#/components/parameters/LeadId"}],
        "responses": {
          "200": {"description": "The enriched lead", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EnrichedLead"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
          "404": {"$ref": "#/components/responses/NotFound"}
        }
      }
    },
    "/v1/enrich": {
      "post": {
        "tags": ["leadenrich"], "summary": "Enrich a batch of leads (at most max_batch, 100 by default) in one run: each company and person is looked up once",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["leads"], "properties": {"leads": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/RawLead"}}}}}}},
        "responses": {
          "200": {"description": "The enriched leads, in request order", "content": {"application/json": {"schema": {"type": "object", "properties": {
            "leads": {"type": "array", "items": {"$ref": "#/components/schemas/EnrichedLead"}},
            "summary": {"type": "object", "properties": {"leads": {"type": "integer"}, "billed_lookups": {"type": "integer"}, "cache_hits": {"type": "integer"}}}}}}}},
          "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
          "413": {"$ref": "#/components/responses/TooLarge"}, "415": {"$ref": "#/components/responses/NotJson"}, "502": {"$ref": "#/components/responses/Upstream"},
          "504": {"$ref": "#/components/responses/Timeout"}
        }
      }
    },
    "/openapi.json": {
      "get": {"tags": ["operations"], "summary": "This document; needs no key", "security": [], "responses": {"200": {"description": "OpenAPI 3 document", "content": {"application/json": {"schema": {"type": "object"}}}}}}
    },
    "/docs": {
      "get": {"tags": ["operations"], "summary": "Interactive API docs (this document, with try-it-out); needs no key", "security": [], "responses": {"200": {"description": "HTML page", "content": {"text/html": {"schema": {"type": "string"}}}}}}
    },
    "/metrics": {
      "get": {
        "tags": ["operations"], "summary": "Prometheus metrics: requests and latency by route, upstream errors, lookups, cache hits, billed lookups, coalesced waits",
        "responses": {"200": {"description": "Prometheus text format 0.0.4", "content": {"text/plain": {"schema": {"type": "string"}}}}, "401": {"$ref": "#/components/responses/Unauthorized"}}
      }
    }
  }
})json";

// Each signal's entry: SignalEntry with its own value schema (the signal's codec has it).
std::string signals_schema() {
  std::string out = R"json({"type": "object", "properties": {)json";
  for (const SignalCodec* codec : signal_codecs()) {
    if (codec != signal_codecs().front()) out += ",";
    out += fmt::format(R"json(
            "{}": {{"allOf": [{{"$ref": "#/components/schemas/SignalEntry"}}, {{"type": "object", "properties": {{
              "value": {{"nullable": true, "allOf": [{{"$ref": "#/components/schemas/{}"}}]}}}}}}]}})json",
                       codec->name(), codec->schema_name());
  }
  out += "}}";
  return out;
}

// The value types' schemas, each a member of components.schemas.
std::string signal_value_schemas() {
  std::string out = R"json(      "NumberRange": {"type": "object", "nullable": true, "description": "a parsed quantity; max is null when open-ended",
        "properties": {"min": {"type": "number"}, "max": {"type": "number", "nullable": true}}},
)json";
  for (const SignalCodec* codec : signal_codecs()) {
    out += fmt::format("      \"{}\": {},\n", codec->schema_name(), codec->value_schema());
  }
  return out;
}

void replace(std::string& d, std::string_view marker, std::string_view text) {
  d.replace(d.find(marker), marker.size(), text);
}

}  // namespace

const std::string& openapi_document() {
  static const std::string document = [] {
    std::string d = kDocument;
    replace(d, "@VERSION@", kVersion);
    replace(d, "@SIGNALS@", signals_schema());
    replace(d, "@SIGNAL_SCHEMAS@\n", signal_value_schemas());
    Json parsed = Json::parse(d).value();
    JobRoutes::add_to_openapi(parsed);
    return parsed.dump();
  }();
  return document;
}

}  // namespace leadenrich::internal
