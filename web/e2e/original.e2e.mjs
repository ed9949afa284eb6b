// The original pipeline's frontend, as re-created in e2e/original (what it calls and how it reads
// the answers: shared/contracts/original-api.md), served by Vite's dev server with /api proxied
// to leadenrich-server --sandbox, in headless Chromium: it lists the campaigns, shows every lead
// of a campaign, enriches one and shows its detail. Twice: with Vite's default proxy, and with a
// proxy that rewrites the Host (changeOrigin), whose page origin the server is told to allow.
//
//   node web/e2e/original.e2e.mjs --server build/apps/leadenrich-server
import assert from "node:assert/strict";
import { createServer as createNetServer } from "node:net";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createServer } from "vite";
import { TIMEOUT_MS, launchBrowser, removeTempDirs, startServer, stopServer, tempDir } from "./harness.mjs";

const { values: args } = parseArgs({
  options: { server: { type: "string" }, chromium: { type: "string" } },
});
assert.ok(args.server, "--server <path to leadenrich-server> is required");
const ORIGINAL = join(dirname(fileURLToPath(import.meta.url)), "original");

/** A free loopback port, for the dev server whose origin must be known before it starts. */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Vite's dev server over e2e/original, its /api proxied to `target`. */
async function startVite(target, port, changeOrigin) {
  process.env.API_TARGET = target;
  process.env.API_CHANGE_ORIGIN = changeOrigin ? "1" : "0";
  const vite = await createServer({
    root: ORIGINAL,
    configFile: join(ORIGINAL, "vite.config.js"),
    cacheDir: join(tempDir(), "vite-cache"),  // never inside the shared node_modules
    logLevel: "warn",
    server: { host: "localhost", port, strictPort: true },
  });
  await vite.listen();
  return vite;
}

const getJson = async (url, init) => {
  const res = await fetch(url, init);
  assert.equal(res.status, 200, `${url}: HTTP ${res.status}`);
  return res.json();
};

let browser;
before(async () => {
  browser = await launchBrowser(args.chromium);
});
after(async () => {
  await browser?.close();
  removeTempDirs();
});

/** Runs the original frontend's whole flow against `base` (the server) through Vite at `pageUrl`. */
async function originalFlow(base, pageUrl) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(TIMEOUT_MS);
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  // Failed requests are recorded with their URL (the browser's own console line has none);
  // the favicon the re-creation does not have is no part of the API.
  page.on("console", (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") && errors.push(m.text()));
  page.on("response", (r) => r.status() >= 400 && !r.url().endsWith("/favicon.ico") && errors.push(`${r.status()} ${r.url()}`));
  try {
    await page.goto(pageUrl);

    // The campaign selector lists every campaign (after its placeholder option).
    const campaigns = await getJson(base + "/api/campaigns");
    await page.locator("#campaign option").nth(campaigns.length).waitFor({ state: "attached" });
    const values = await page.locator("#campaign option").evaluateAll((os) => os.map((o) => o.value));
    assert.deepEqual(values, ["", ...campaigns.map((c) => c.id)]);

    // Every lead of the campaign in one table: more than one Aturiya page of 50.
    const leads = await getJson(base + "/api/campaigns/cmp_0002/leads");
    assert.ok(leads.length > 50, `cmp_0002 has ${leads.length} leads`);
    await page.locator("#campaign").selectOption("cmp_0002");
    await page.locator("#leads tr").nth(leads.length - 1).waitFor();
    assert.equal(await page.locator("#leads tr").count(), leads.length);
    const rowIds = await page.locator("#leads tr").evaluateAll((rs) => rs.map((r) => r.dataset.leadId));
    assert.deepEqual(rowIds, leads.map((l) => l.lead_id));

    // Enrich a lead with a website and a LinkedIn URL; the row says so and the detail renders.
    const target = leads.find((l) => l.website && l.linkedin_url);
    assert.ok(target, "the campaign has a lead with a website and a LinkedIn URL");
    const row = page.locator(`#leads tr[data-lead-id="${target.lead_id}"]`);
    await row.getByRole("button", { name: "Enrich" }).click();
    await page.waitForFunction(
      (id) => document.querySelector(`#leads tr[data-lead-id="${id}"] .state`)?.textContent === "Enriched",
      target.lead_id,
    );
    const detail = page.locator("#detail");
    await detail.waitFor();
    assert.equal(await detail.locator("h2").innerText(), target.name);

    // What it shows is what the route answers (the second answer comes from the cache: same values).
    const e = await getJson(`${base}/api/leads/${target.lead_id}/enrich`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(target),
    });
    assert.ok(e.company_overview, "the sandbox knows the company");
    assert.equal(await detail.locator(".description").innerText(), e.company_overview.description);
    assert.equal(await detail.locator(".headcount").innerText(), e.company_overview.headcount ?? "");
    if (e.tech_stack) {
      assert.deepEqual(await detail.locator("#tech li").allInnerTexts(), e.tech_stack);
    }
    if (e.funding?.total_funding_usd) {
      const shown = await detail.locator("#funding .total").innerText();
      assert.equal(shown, `$${await page.evaluate((n) => n.toLocaleString(), e.funding.total_funding_usd)}`);
    }
    if (e.linkedin_posts) {
      assert.deepEqual(await detail.locator("#posts li").allInnerTexts(), e.linkedin_posts.map((p) => p.slice(0, 300).trim()));
    }
    const at = await detail.locator("#enriched-at").innerText();
    assert.doesNotMatch(at, /Invalid Date/);
    assert.equal(await detail.locator("#found").innerText(), `Found: ${e.enrichment_metadata.signals_found.join(", ")}`);
    assert.equal(await detail.locator("#missed").innerText(), `Missed: ${e.enrichment_metadata.signals_missed.join(", ")}`);
    assert.equal(await page.locator("#error").count(), 0);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
}

describe("the original frontend on Vite against leadenrich-server --sandbox", () => {
  test("with Vite's default /api proxy", async () => {
    const server = startServer(args.server, tempDir());
    let vite;
    try {
      const base = await server.url;
      const port = await freePort();
      vite = await startVite(base, port, false);
      await originalFlow(base, `http://localhost:${port}/`);
    } finally {
      await vite?.close();
      await stopServer(server);
    }
  });

  test("with a proxy that rewrites the Host, the page's origin allowed by LEADENRICH_CORS_ORIGINS", async () => {
    const port = await freePort();
    const origin = `http://localhost:${port}`;
    const server = startServer(args.server, tempDir(), { LEADENRICH_CORS_ORIGINS: origin });
    let vite;
    try {
      const base = await server.url;
      vite = await startVite(base, port, true);
      await originalFlow(base, origin + "/");
    } finally {
      await vite?.close();
      await stopServer(server);
    }
  });
});
