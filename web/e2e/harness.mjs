// What the browser tests share: Debian's headless Chromium and leadenrich-server --sandbox on
// loopback, each started and stopped by the test that uses it.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

// Chromium as root in a closed network: no sandbox, no GPU, no calls home.
const CHROMIUM_FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--disable-dev-shm-usage",
];
export const TIMEOUT_MS = 20_000;

/** Launches the browser at `path` (Debian's chromium by default). */
export async function launchBrowser(path = process.env.CHROMIUM ?? "/usr/bin/chromium") {
  assert.ok(existsSync(path), `no browser at ${path}: install Debian's chromium (bash scripts/setup.sh)`);
  return chromium.launch({ executablePath: path, args: CHROMIUM_FLAGS, timeout: TIMEOUT_MS });
}

/** Starts leadenrich-server --sandbox; `url` resolves with its address once it logs "listening on". */
export function startServer(binary, dir, env = {}, flags = []) {
  const server = resolve(binary);
  const proc = spawn(server, ["--sandbox", "--port", "0", "--store", join(dir, "ui.db"), ...flags], {
    cwd: dir,
    env: { PATH: process.env.PATH, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  const url = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), TIMEOUT_MS);
    proc.stderr.on("data", (chunk) => {
      log += chunk;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.on("error", (e) => reject(new Error(`cannot start ${server}: ${e.message}`)));
    proc.on("exit", (code) => reject(new Error(`server exited with ${code}:\n${log}`)));
  });
  return { proc, url, log: () => log };
}

export async function stopServer(server) {
  if (server.proc.exitCode !== null) return;
  const exited = new Promise((resolve) => server.proc.on("exit", resolve));
  server.proc.kill("SIGTERM");
  await exited;
}

/** Temporary directories, removed by removeTempDirs(). */
const dirs = [];
export function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), "leadenrich-ui-"));
  dirs.push(dir);
  return dir;
}
export function removeTempDirs() {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}
