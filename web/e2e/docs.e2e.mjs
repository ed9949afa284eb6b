// The interactive API docs at /docs in headless Chromium, against leadenrich-server --sandbox:
// the page lists every route of /openapi.json (leadenrich's /v1 and the original's /api), and
// "Try it out" sends a request and shows the server's answer, with an API key when it needs one.
//
//   node web/e2e/docs.e2e.mjs --server build/apps/leadenrich-server
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { parseArgs } from "node:util";
import { TIMEOUT_MS, launchBrowser, removeTempDirs, startServer, stopServer, tempDir } from "./harness.mjs";

const { values: args } = parseArgs({
  options: { server: { type: "string" }, chromium: { type: "string" } },
});
assert.ok(args.server, "--server <path to leadenrich-server> is required");

let browser;
before(async () => {
  browser = await launchBrowser(args.chromium);
});
after(async () => {
  await browser?.close();
  removeTempDirs();
});

/** Opens one operation, optionally fills its parameters, sends it, and returns the answer shown. */
async function tryItOut(page, method, path, params = {}) {
  const op = page.locator(`[data-testid="operation"][data-method="${method}"][data-path="${path}"]`);
  await op.locator("button").first().click();
  for (const [name, value] of Object.entries(params)) await op.getByTestId(`param-${name}`).fill(value);
  await op.getByTestId("execute").click();
  await op.getByTestId("answer").waitFor();
  const status = Number(await op.getByTestId("answer-status").innerText());
  const body = JSON.parse(await op.getByTestId("answer-body").textContent());
  await op.locator("button").first().click();  // closed again, so a later call waits for a new answer
  return { status, body };
}

describe("API docs at /docs", () => {
  test("list every route and try them out", async () => {
    const server = startServer(args.server, tempDir());
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(TIMEOUT_MS);
    try {
      const base = await server.url;
      await page.goto(base + "/docs");
      const doc = await (await fetch(base + "/openapi.json")).json();
      const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
      await page.getByTestId("operation").nth(documented.length - 1).waitFor();
      const listed = await page.getByTestId("operation").evaluateAll((os) => os.map((o) => `${o.dataset.method} ${o.dataset.path}`));
      assert.deepEqual([...listed].sort(), [...documented].sort());
      for (const route of ["GET /v1/campaigns", "POST /v1/enrich", "GET /api/campaigns", "POST /api/leads/{lead_id}/enrich"]) {
        assert.ok(listed.includes(route), route);
      }

      // The original's campaign list: a plain list, as the server answers it.
      let answer = await tryItOut(page, "GET", "/api/campaigns");
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.body, await (await fetch(base + "/api/campaigns")).json());

      // The original's enrich with the example body the page offers: the original EnrichedLead.
      answer = await tryItOut(page, "POST", "/api/leads/{lead_id}/enrich");
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.lead_id, "lead_1_0001");
      assert.ok(answer.body.enrichment_metadata.enriched_at);

      // A /v1 route with path and query parameters.
      answer = await tryItOut(page, "GET", "/v1/campaigns/{id}/leads", { id: "cmp_0002", per_page: "5" });
      assert.equal(answer.status, 200);
      assert.equal(answer.body.campaign_id, "cmp_0002");
      assert.equal(answer.body.leads.length, 5);

      // leadenrich's enrich with the example lead the page offers for the example id.
      answer = await tryItOut(page, "POST", "/v1/leads/{id}/enrich");
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.lead.lead_id, "lead_1_0001");
      assert.ok(answer.body.signals_found.length > 0);
    } finally {
      await page.close();
      await stopServer(server);
    }
  });

  test("the page needs no key; its calls send the one typed in", async () => {
    const key = "docs-test-key-123";
    const server = startServer(args.server, tempDir(), { LEADENRICH_API_KEYS: key });
    const page = await browser.newPage();
    page.setDefaultTimeout(TIMEOUT_MS);
    try {
      await page.goto((await server.url) + "/docs");
      await page.getByTestId("operation").first().waitFor();
      let answer = await tryItOut(page, "GET", "/v1/campaigns");
      assert.equal(answer.status, 401);
      assert.equal(answer.body.error.code, "unauthorized");
      await page.getByTestId("docs-key").fill(key);
      answer = await tryItOut(page, "GET", "/v1/campaigns");
      assert.equal(answer.status, 200);
      assert.equal(answer.body.campaigns.length, 3);
      assert.ok(!server.log().includes(key), "the key is never logged");
    } finally {
      await page.close();
      await stopServer(server);
    }
  });
});
