// The web UI in a real browser: Debian's headless Chromium, driven by playwright-core, against
// leadenrich-server --sandbox on loopback (both from e2e/harness.mjs). Picks a campaign, enriches
// a lead, reads its signals, enriches all shown leads, runs a background job from the Jobs view
// and downloads its results, and checks the API-key prompt.
//
//   node web/e2e/ui.e2e.mjs --server build/apps/leadenrich-server [--screenshot out.png]
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { parseArgs } from "node:util";
import { TIMEOUT_MS, launchBrowser, removeTempDirs, startServer as start, stopServer, tempDir } from "./harness.mjs";

const { values: args } = parseArgs({
  options: {
    server: { type: "string" },
    screenshot: { type: "string" },
    chromium: { type: "string" },
  },
});
assert.ok(args.server, "--server <path to leadenrich-server> is required");
const startServer = (dir, env, flags) => start(args.server, dir, env, flags);

let browser;

before(async () => {
  browser = await launchBrowser(args.chromium);
});

after(async () => {
  await browser?.close();
  removeTempDirs();
});

describe("leadenrich web UI", () => {
  test("pick a campaign, enrich a lead, read its signals, enrich all shown", async () => {
    const server = startServer(tempDir());
    const page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
    page.setDefaultTimeout(TIMEOUT_MS);
    try {
      const base = await server.url;
      await page.goto(base + "/");
      await page.getByTestId("sandbox-tag").waitFor();

      // The campaign selector lists the API's campaigns; pick the second.
      const campaigns = await (await fetch(base + "/v1/campaigns")).json();
      const select = page.getByTestId("campaign-select");
      await page.locator('[data-testid="campaign-select"] option').nth(campaigns.campaigns.length - 1).waitFor({ state: "attached" });
      const options = await select.locator("option").evaluateAll((os) => os.map((o) => o.value));
      assert.deepEqual(options, campaigns.campaigns.map((c) => c.id));
      await select.selectOption("cmp_0002");
      await page.locator('[data-testid="lead-row"][data-lead-id^="lead_2_"]').first().waitFor();
      const rows = page.getByTestId("lead-row");
      assert.equal(await rows.count(), 25);
      assert.equal(await page.locator('[data-testid="lead-row"] .badge[data-status="none"]').count(), 25 * 5);

      // Enrich one lead that has a company website, and read the detail panel.
      const apiPage = await (await fetch(base + "/v1/campaigns/cmp_0002/leads?page=1&per_page=25")).json();
      const target = apiPage.leads.map((e) => e.lead).find((l) => l.website && l.linkedin_url);
      assert.ok(target, "the sandbox page has a lead with a website and a LinkedIn URL");
      const row = page.locator(`[data-testid="lead-row"][data-lead-id="${target.lead_id}"]`);
      await row.getByTestId("enrich-button").click();
      const detail = page.getByTestId("lead-detail");
      await detail.waitFor();
      assert.match(await detail.locator("h2").innerText(), new RegExp(target.name));

      const stored = await (await fetch(`${base}/v1/leads/${target.lead_id}/enrichment`)).json();
      for (const name of ["company_overview", "tech_stack", "funding", "news", "linkedin_posts"]) {
        const section = page.getByTestId(`signal-${name}`);
        assert.equal(await section.getAttribute("data-status"), stored.signals[name].status, name);
        assert.match(await section.innerText(), new RegExp(stored.signals[name].source.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
      }
      assert.ok(stored.signals_found.length > 0);
      assert.equal(await detail.getByTestId("quality-score").innerText(), String(stored.quality_score));
      const raw = JSON.parse(await detail.getByTestId("raw-json").textContent());
      assert.deepEqual(raw, stored);
      // The row's badges now show the statuses.
      for (const name of ["company_overview", "linkedin_posts"]) {
        const idx = ["company_overview", "tech_stack", "funding", "news", "linkedin_posts"].indexOf(name);
        assert.equal(await row.locator(".badge").nth(idx).getAttribute("data-status"), stored.signals[name].status);
      }

      // Enrich all shown: every row gets statuses and the notice tells the cost.
      await page.getByTestId("enrich-all").click();
      const notice = page.getByTestId("notice");
      await notice.waitFor();
      assert.match(await notice.innerText(), /^Enriched 25 leads: \d+ billed lookups, \d+ signals from cache\.$/);
      assert.equal(await page.locator('[data-testid="lead-row"] .badge[data-status="none"]').count(), 0);

      // Clicking an enriched row opens its stored result.
      const other = apiPage.leads[3].lead;
      await page.locator(`[data-testid="lead-row"][data-lead-id="${other.lead_id}"]`).click();
      await page.waitForFunction(
        (name) => document.querySelector('[data-testid="lead-detail"] h2')?.textContent === name,
        other.name ?? other.lead_id,
      );
      if (args.screenshot) await page.screenshot({ path: args.screenshot, fullPage: false });
    } finally {
      await page.close();
      await stopServer(server);
    }
  });

  test("start a job for a campaign, follow its progress, download its results as CSV and JSON", async () => {
    // Slow pipe0 runs, so the job is seen running before it finishes.
    const server = startServer(tempDir(), {}, ["--sandbox-latency-ms", "1000"]);
    const page = await browser.newPage({ viewport: { width: 1500, height: 950 }, acceptDownloads: true });
    page.setDefaultTimeout(TIMEOUT_MS);
    try {
      const base = await server.url;
      await page.goto(base + "/");
      await page.getByTestId("sandbox-tag").waitFor();
      await page.getByTestId("tab-jobs").click();
      await page.getByTestId("jobs-view").waitFor();
      await page.locator('[data-testid="job-campaign"] option[value="cmp_0003"]').waitFor({ state: "attached" });
      await page.getByTestId("job-campaign").selectOption("cmp_0003");
      await page.getByTestId("start-job").click();

      const row = page.getByTestId("job-row").first();
      await row.waitFor();
      const jobId = await row.getAttribute("data-job-id");
      assert.match(jobId, /^job_/);
      // Live: the row shows the job running with a count, then finished with every lead.
      await page.locator(`[data-testid="job-row"][data-job-id="${jobId}"][data-state="running"]`).waitFor();
      assert.match(await row.getByTestId("job-progress").innerText(), /^\d+( \/ 60)? leads$/);
      await page.locator(`[data-testid="job-row"][data-job-id="${jobId}"][data-state="finished"]`).waitFor({ timeout: 60_000 });
      assert.equal(await row.getByTestId("job-progress").innerText(), "60 / 60 leads");
      const job = await (await fetch(`${base}/v1/jobs/${jobId}`)).json();
      assert.equal(job.state, "finished");
      assert.equal(job.spec.campaign_id, "cmp_0003");

      // Downloads: the CSV is the server's, byte for byte; the JSON is every lead, in order.
      const apiCsv = await (await fetch(`${base}/v1/jobs/${jobId}/results?format=csv`)).text();
      const apiLines = (await (await fetch(`${base}/v1/jobs/${jobId}/results`)).text()).trim().split("\n");
      let [download] = await Promise.all([page.waitForEvent("download"), row.getByTestId("download-csv").click()]);
      assert.equal(download.suggestedFilename(), `${jobId}.csv`);
      assert.equal(readFileSync(await download.path(), "utf8"), apiCsv);
      [download] = await Promise.all([page.waitForEvent("download"), row.getByTestId("download-json").click()]);
      assert.equal(download.suggestedFilename(), `${jobId}.json`);
      const leads = JSON.parse(readFileSync(await download.path(), "utf8"));
      assert.equal(leads.length, 60);
      assert.deepEqual(leads, apiLines.map((l) => JSON.parse(l)));
      assert.ok(leads.every((l) => l.lead.campaign_id === "cmp_0003"));
    } finally {
      await page.close();
      await stopServer(server);
    }
  });

  test("asks for an API key when the server wants one", async () => {
    const key = "ui-test-key-123";
    const server = startServer(tempDir(), { LEADENRICH_API_KEYS: key });
    const page = await browser.newPage();
    page.setDefaultTimeout(TIMEOUT_MS);
    try {
      await page.goto((await server.url) + "/");
      const form = page.getByTestId("key-form");
      await form.waitFor();
      await form.locator("input").fill("wrong");
      await form.locator("button").click();
      await page.getByTestId("error").waitFor();
      assert.match(await page.getByTestId("error").innerText(), /refused/);
      await form.locator("input").fill(key);
      await form.locator("button").click();
      await page.getByTestId("lead-row").first().waitFor();
      assert.equal(await page.getByTestId("key-form").count(), 0);
      assert.ok(!server.log().includes(key), "the key is never logged");
    } finally {
      await page.close();
      await stopServer(server);
    }
  });
});
