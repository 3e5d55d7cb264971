// Runs the UI logic tests (web/test/*.test.ts) with Node's built-in test runner: each test file
// is bundled by esbuild for Node first (Node runs no TypeScript), into a temporary folder.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const web = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = mkdtempSync(join(tmpdir(), "agentplane-web-test-"));
try {
  const tests = readdirSync(join(web, "test")).filter((name) => name.endsWith(".test.ts")).sort();
  for (const name of tests) {
    execFileSync(
      process.env.ESBUILD ?? "esbuild",
      [
        join(web, "test", name),
        "--bundle",
        "--platform=node",
        "--format=esm",
        "--target=node18",
        "--log-level=warning",
        "--external:node:*",
        `--outfile=${join(out, name.replace(/\.ts$/, ".mjs"))}`,
      ],
      { stdio: "inherit", env: { ...process.env, NODE_PATH: "/usr/share/nodejs" } },
    );
  }
  const files = tests.map((name) => join(out, name.replace(/\.ts$/, ".mjs")));
  const run = spawnSync(process.execPath, ["--test", ...files], { stdio: "inherit" });
  process.exitCode = run.status ?? 1;
} finally {
  rmSync(out, { recursive: true, force: true });
}
