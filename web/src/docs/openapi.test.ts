import { describe, expect, test } from "vitest";
import { Document, endpointsByTag, exampleOf, requestPath } from "./openapi";

const doc: Document = {
  info: { title: "t", version: "1" },
  tags: [{ name: "original" }, { name: "leadenrich" }],
  components: {
    schemas: {
      Lead: {
        type: "object",
        required: ["lead_id", "tags"],
        properties: { lead_id: { type: "string" }, tags: { type: "array", items: { type: "string" } }, n: { type: "integer" } },
      },
      WithExample: { type: "object", example: { lead_id: "x" } },
    },
    parameters: { Id: { name: "id", in: "path", required: true, example: "cmp_1" } },
  },
  paths: {
    "/v1/campaigns/{id}/leads": {
      get: {
        tags: ["leadenrich"],
        parameters: [{ $ref: "#/components/parameters/Id" } as never, { name: "page", in: "query" }],
        responses: {},
      },
    },
    "/api/campaigns": { get: { tags: ["original"], responses: {} } },
    "/api/leads/{lead_id}/enrich": { post: { tags: ["original"], responses: {} } },
    "/metrics": { get: { responses: {} } },
  },
};

describe("the docs page's reading of /openapi.json", () => {
  test("groups operations by their first tag, in the document's tag order, untagged last", () => {
    const groups = endpointsByTag(doc).map(([tag, list]) => [tag, list.map((e) => `${e.method} ${e.path}`)]);
    expect(groups).toEqual([
      ["original", ["GET /api/campaigns", "POST /api/leads/{lead_id}/enrich"]],
      ["leadenrich", ["GET /v1/campaigns/{id}/leads"]],
      ["other", ["GET /metrics"]],
    ]);
  });

  test("resolves parameter references and fills the path, encoded, and only non-empty query values", () => {
    const [, [endpoint]] = endpointsByTag(doc)[1];
    expect(endpoint.parameters.map((p) => p.name)).toEqual(["id", "page"]);
    expect(requestPath(endpoint, { id: "a/b c", page: "" })).toBe("/v1/campaigns/a%2Fb%20c/leads");
    expect(requestPath(endpoint, { id: "cmp_1", page: "2" })).toBe("/v1/campaigns/cmp_1/leads?page=2");
  });

  test("builds example bodies from a schema's example, else its required members", () => {
    expect(exampleOf(doc, { $ref: "#/components/schemas/WithExample" })).toEqual({ lead_id: "x" });
    expect(exampleOf(doc, { $ref: "#/components/schemas/Lead" })).toEqual({ lead_id: "string", tags: ["string"] });
    expect(exampleOf(doc, { type: "integer", default: 50 })).toBe(50);
  });
});
