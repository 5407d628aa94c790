// Builds src/ into ONE minified ES module (CSS inside) at tb_nndebug/plugin/static/index.js.
// Usage: node build.mjs [--outfile PATH]   (the freshness test builds into a temp file)
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import path from "node:path";
import * as esbuild from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
const i = process.argv.indexOf("--outfile");
const outfile = i > 0 ? path.resolve(process.argv[i + 1]) : path.join(here, "..", "tb_nndebug", "plugin", "static", "index.js");

// `import css from "./x.css?raw"` → the minified stylesheet as a string (Vite/vitest understand the same import).
const rawCss = {
  name: "raw-css",
  setup(build) {
    build.onResolve({ filter: /\.css\?raw$/ }, (args) => ({
      path: path.join(args.resolveDir, args.path.replace(/\?raw$/, "")),
      namespace: "raw-css",
    }));
    build.onLoad({ filter: /.*/, namespace: "raw-css" }, async (args) => {
      const source = await readFile(args.path, "utf8");
      const { code } = await esbuild.transform(source, { loader: "css", minify: true });
      return { contents: code, loader: "text" };
    });
  },
};

const result = await esbuild.build({
  absWorkingDir: here,
  entryPoints: ["src/index.ts"],
  outfile,
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2020",
  minify: true,
  sourcemap: false,
  legalComments: "eof",
  charset: "utf8",
  metafile: true,
  banner: { js: "/*! tb_nndebug Debugger tab — built from frontend/ (npm run build). Bundles @observablehq/plot and d3 (ISC licence). */" },
  logLevel: "warning",
  plugins: [rawCss],
});
const bytes = Object.values(result.metafile.outputs)[0].bytes;
console.log(`built ${path.relative(process.cwd(), outfile)}: ${(bytes / 1024).toFixed(1)} KiB`);
