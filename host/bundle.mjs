#!/usr/bin/env node
// host/bundle.mjs: the whole `moat` command as ONE file, dist/moat.mjs, that runs with plain
// `node dist/moat.mjs <command>` in a folder without node_modules (npm run bundle).
//
//   1. Runs host/build.mjs (a no-op when build/moat.wasm is up to date; builds it when missing).
//   2. esbuild bundles host/cli.ts `main` (what host/moat.mjs runs through tsx) and every
//      dependency into dist/moat.mjs: ESM, platform node, target node20, `#!/usr/bin/env node`.
//      Node built-ins stay imports; anything else left external fails the bundle.
//   3. Embeds, in a virtual module evaluated before any host code:
//        globalThis.__MOAT_WASM_B64__       build/moat.wasm, base64 (host/module.ts wasmBytes()
//                                            uses it instead of reading WASM_PATH)
//        globalThis.__MOAT_DEFAULT_CONFIG__ the text of host/default-config.json5, if that file
//                                            exists (otherwise left undefined)
//        globalThis.__MOAT_SITE_DIR__       absolute path of the site/ folder next to the bundle
//                                            file at run time, if host/site/ existed at bundle time
//      and copies host/site/ to dist/site/.
//   4. Prints the bundle size.
//
// What the host must do to work from the bundle (host/config.ts etc., not wired here):
//   - default config text: `(globalThis as { __MOAT_DEFAULT_CONFIG__?: string }).__MOAT_DEFAULT_CONFIG__
//     ?? readFileSync(DEFAULT_CONFIG_PATH, 'utf8')`. Keep resolving its relative paths against
//     dirname(DEFAULT_CONFIG_PATH): DEFAULT_CONFIG_PATH is `new URL('./default-config.json5',
//     import.meta.url)` and import.meta.url is dist/moat.mjs in the bundle, so `documents: './site'`
//     lands on dist/site/, where the site is copied. globalThis.__MOAT_SITE_DIR__ holds that same
//     absolute path for code that wants it explicitly.
//   - module bytes: call wasmBytes() from host/module.ts, never readFileSync(WASM_PATH) (WASM_PATH is
//     <bundle folder>/../build/moat.wasm in the bundle, which does not exist).
//   - read no other file relative to import.meta.url: the bundle has no host/ or build/ folder.
//
//   node host/bundle.mjs [--outdir DIR]     (default dist/, relative to the repository root)

import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const SELF = fileURLToPath(import.meta.url);
const HOST = dirname(SELF);
const ROOT = resolve(HOST, "..");
const WASM = join(ROOT, "build", "moat.wasm");
const ENTRY = join(HOST, "cli.ts");
const DEFAULT_CONFIG = join(HOST, "default-config.json5");
const SITE = join(HOST, "site");
const USAGE = "usage: node host/bundle.mjs [--outdir DIR]";

function fail(message) {
  process.stderr.write(`moat bundle failed: ${String(message).trimEnd()}\n`);
  process.exit(1);
}

let outDir = join(ROOT, "dist");
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === "-h" || a === "--help") {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  } else if (a === "--outdir" && argv[i + 1]) outDir = resolve(ROOT, argv[++i]);
  else fail(`unknown argument ${a}\n${USAGE}`);
}
const OUT = join(outDir, "moat.mjs");
const show = (p) => relative(process.cwd(), p) || p;
const fmt = (n) => n.toLocaleString("en-US");

// 1. The module.
const built = spawnSync(process.execPath, [join(HOST, "build.mjs")], { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] });
if (built.status !== 0) fail(`host/build.mjs exited with ${built.status ?? built.signal}`);
if (!existsSync(WASM)) fail(`${show(WASM)} is missing after host/build.mjs`);
const wasm = readFileSync(WASM);
if (!WebAssembly.validate(wasm)) fail(`${show(WASM)} is not a valid WebAssembly module`);

// 2. What gets embedded: the dashboard's built files too (the bundle has no build/ folder).
const { buildDashboard, isStale: dashboardStale, FILES: DASHBOARD_FILES, OUT_DIR: DASHBOARD_DIR } = await import("./dashboard/build.mjs");
if (dashboardStale()) await buildDashboard();
const dashboard = Object.fromEntries(DASHBOARD_FILES.map((f) => [f, readFileSync(join(DASHBOARD_DIR, f)).toString("base64")]));
const defaultConfig = existsSync(DEFAULT_CONFIG) ? readFileSync(DEFAULT_CONFIG, "utf8") : undefined;
const hasSite = existsSync(SITE) && statSync(SITE).isDirectory();

const EMBED = "moat-bundle:embedded";
const MAIN = "moat-bundle:main";
const embeddedSource = [
  `import { fileURLToPath as __moatPath } from "node:url";`,
  `globalThis.__MOAT_WASM_B64__ = ${JSON.stringify(wasm.toString("base64"))};`,
  defaultConfig === undefined ? "" : `globalThis.__MOAT_DEFAULT_CONFIG__ = ${JSON.stringify(defaultConfig)};`,
  `globalThis.__MOAT_DASHBOARD__ = ${JSON.stringify(dashboard)};`,
  hasSite ? `globalThis.__MOAT_SITE_DIR__ = __moatPath(new URL("./site/", import.meta.url));` : "",
].join("\n");
// ESM evaluates imports in order: the embedded globals exist before any host module runs.
const mainSource = [
  `import ${JSON.stringify(EMBED)};`,
  `import { main } from ${JSON.stringify(ENTRY)};`,
  `process.exitCode = await main(process.argv.slice(2));`,
].join("\n");

const virtual = {
  name: "moat-virtual",
  setup(b) {
    b.onResolve({ filter: /^moat-bundle:/ }, (args) => ({ path: args.path, namespace: "moat-bundle" }));
    b.onLoad({ filter: /.*/, namespace: "moat-bundle" }, (args) => ({
      contents: args.path === EMBED ? embeddedSource : mainSource,
      loader: "js",
      resolveDir: HOST,
    }));
  },
};

let esbuild;
try {
  esbuild = await import("esbuild");
} catch (e) {
  fail(`cannot load esbuild (devDependency "esbuild"): ${e.message}`);
}

mkdirSync(outDir, { recursive: true });
let result;
try {
  result = await esbuild.build({
    entryPoints: [MAIN],
    bundle: true,
    outfile: OUT,
    format: "esm",
    platform: "node",
    target: "node20",
    // CommonJS dependencies call require() for Node built-ins; an ESM file has no require.
    banner: {
      js: [
        "#!/usr/bin/env node",
        "// moat: the whole command in one file (host/bundle.mjs). Run: node moat.mjs --help",
        'import { createRequire as __moatCreateRequire } from "node:module";',
        "const require = __moatCreateRequire(import.meta.url);",
      ].join("\n"),
    },
    plugins: [virtual],
    metafile: true,
    logLevel: "warning",
    legalComments: "inline",
    absWorkingDir: ROOT,
  });
} catch (e) {
  fail(e.message ?? e);
}

// Only Node built-ins may remain as imports.
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const externals = new Set();
for (const out of Object.values(result.metafile.outputs)) {
  for (const imp of out.imports) if (imp.external && !builtins.has(imp.path)) externals.add(imp.path);
}
if (externals.size) fail(`the bundle still imports ${[...externals].join(", ")}: it would need node_modules`);

// 3. The demo site next to the bundle.
const siteOut = join(outDir, "site");
rmSync(siteOut, { recursive: true, force: true });
if (hasSite) cpSync(SITE, siteOut, { recursive: true });

chmodSync(OUT, 0o755);

// 4. Size.
const bytes = readFileSync(OUT);
const parts = [`wasm ${fmt(wasm.length)} B`];
parts.push(defaultConfig === undefined ? "no default config" : `default config ${fmt(Buffer.byteLength(defaultConfig))} B`);
parts.push(hasSite ? `site -> ${show(siteOut)}` : "no site");
process.stdout.write(`moat: ${show(OUT)} ${fmt(bytes.length)} B raw / ${fmt(gzipSync(bytes, { level: 9 }).length)} B gzip (embedded: ${parts.join(", ")})\n`);
