// Builds the console into web/dist with Debian's esbuild: the app's minified bundle (the pages
// other than the chat split off into bundles of their own, loaded when first opened, the code
// they share in chunks) and its styles, all named by content hash (the edge serves those
// `immutable`); the index page that references them (with modulepreload links for the chunks the
// app imports at once); a gzip sibling of each text file (the edge sends it when accepted).
// Prints each file's size, raw and gzipped, and what the first page downloads. Run by `make web`
// (scripts/web build).
import { execFileSync } from "node:child_process";
import { gzipSync, constants } from "node:zlib";
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const web = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(web, "dist");
const esbuild = process.env.ESBUILD ?? "esbuild";

rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, "assets"), { recursive: true });

const metafile = join(dist, ".meta.json");
execFileSync(
  esbuild,
  [
    `app=${join(web, "src", "main.tsx")}`,
    "--bundle",
    "--splitting",
    "--minify",
    "--format=esm",
    "--target=es2020,chrome100,firefox100,safari15",
    "--jsx=automatic",
    "--define:process.env.NODE_ENV=\"production\"",
    "--legal-comments=none",
    "--entry-names=[name]-[hash]",
    "--asset-names=[name]-[hash]",
    "--chunk-names=chunk-[hash]",
    `--outdir=${join(dist, "assets")}`,
    `--metafile=${metafile}`,
    "--log-level=warning",
  ],
  { stdio: "inherit", env: { ...process.env, NODE_PATH: "/usr/share/nodejs" } },
);
const meta = JSON.parse(readFileSync(metafile, "utf8"));
rmSync(metafile);

let script = "";
let style = "";
const main = join(web, "src", "main.tsx");
for (const [path, output] of Object.entries(meta.outputs)) {
  // The app's entry (pages loaded later are entries of their own, from dynamic imports).
  if (output.entryPoint && path.endsWith(".js") && join(process.cwd(), output.entryPoint) === main) {
    script = "/" + relative(dist, path);
    if (output.cssBundle) style = "/" + relative(dist, output.cssBundle);
  }
}
if (!script) throw new Error("build: esbuild wrote no app bundle");

// What the first page loads: the app and the chunks it imports statically, transitively.
const firstPage = new Set([join(dist, script.slice(1))]);
const pending = [join(dist, script.slice(1))];
while (pending.length > 0) {
  const output = meta.outputs[relative(process.cwd(), pending.pop())];
  for (const imported of output?.imports ?? []) {
    const path = join(process.cwd(), imported.path);
    if (imported.kind === "import-statement" && !firstPage.has(path)) {
      firstPage.add(path);
      pending.push(path);
    }
  }
}
const preloads = [...firstPage]
  .filter((path) => path !== join(dist, script.slice(1)))
  .map((path) => `<link rel="modulepreload" href="/${relative(dist, path)}">`);
if (style) firstPage.add(join(dist, style.slice(1)));
firstPage.add(join(dist, "index.html"));

cpSync(join(web, "public"), dist, { recursive: true });
const template = readFileSync(join(web, "index.html"), "utf8");
const page = template
  .replace("<!--styles-->", style ? `<link rel="stylesheet" href="${style}">` : "")
  .replace("<!--scripts-->", [...preloads, `<script type="module" src="${script}"></script>`].join("\n"));
writeFileSync(join(dist, "index.html"), page);

// Every text file gets its gzip sibling; the report lists what a first visit downloads.
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else files.push(path);
  }
};
walk(dist);
let rawTotal = 0;
let gzipTotal = 0;
let firstPageGzip = 0;
for (const path of files) {
  if (!/\.(js|css|html|svg|json)$/.test(path)) continue;
  const raw = readFileSync(path);
  const gz = gzipSync(raw, { level: constants.Z_BEST_COMPRESSION });
  writeFileSync(path + ".gz", gz);
  rawTotal += raw.length;
  gzipTotal += gz.length;
  if (firstPage.has(path)) firstPageGzip += gz.length;
  console.log(`  ${relative(dist, path).padEnd(32)} ${String(raw.length).padStart(8)} B  ${String(gz.length).padStart(7)} B gzip`);
}
console.log(
  `web: built ${relative(process.cwd(), dist) || dist}: ${rawTotal} B, ${gzipTotal} B gzip; ` +
    `the first page loads ${firstPage.size} files, ${firstPageGzip} B gzip`,
);
