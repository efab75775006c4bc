/**
 * Bundles a benchmark into one JavaScript file next to it (`<dir>/build/<name>.mjs`), so it runs as
 * compiled code, the way an application runs the published packages, rather than through tsx.
 *
 *   node benchmarks/bundle.mjs overhead/run.ts
 */
import { build } from "esbuild"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))
const entry = process.argv[2]
if (entry === undefined) {
  console.error("usage: node benchmarks/bundle.mjs <benchmark entry, relative to benchmarks/>")
  process.exit(2)
}
const source = path.join(here, entry)
const outfile = path.join(path.dirname(source), "build", path.basename(source).replace(/\.ts$/, ".mjs"))
await build({
  entryPoints: [source],
  outfile,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  logLevel: "warning",
  // Some dependencies are CommonJS and call require().
  banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" }
})
