/**
 * The README examples that need no API key, run as a user would run them (`npx tsx <file>`), from the
 * copies `scripts/readme-examples.mjs` makes (`pnpm check` type-checks every copy, keyed or not).
 */
import { describe, expect, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const copies = path.join(root, "examples", "readme")

/** Each keyless example and a line it must print. */
const keyless: ReadonlyArray<readonly [file: string, readme: string, prints: RegExp]> = [
  ["core-1.ts", "packages/core/README.md", /^backup Hello/m],
  ["policy-1.ts", "packages/policy/README.md", /policy\.yaml:8:14: error SY102: unknown key `stratgy`; did you mean/],
  ["circuit-2.ts", "packages/circuit/README.md", /^openai\/gpt-4o-mini closed$/m],
  ["simulator-2.ts", "packages/simulator/README.md", /^\d+ of 100 calls failed with an injected 503$/m]
]

const run = (file: string): string =>
  execFileSync(process.execPath, ["--import", "tsx", path.join(copies, file)], {
    cwd: root,
    encoding: "utf8",
    // No key, and none of vitest's variables (a program that imports vitest outside a test fails).
    env: Object.fromEntries(
      Object.entries(process.env).filter(([name]) => name !== "OPENAI_API_KEY" && !name.startsWith("VITEST"))
    ),
    timeout: 60_000
  })

describe("README examples", () => {
  it("copies every ```ts block of the READMEs", () => {
    execFileSync(process.execPath, [path.join(root, "scripts", "readme-examples.mjs")], { cwd: root })
    for (const [file, readme] of keyless) {
      const copy = fs.readFileSync(path.join(copies, file), "utf8")
      expect(copy.split("\n")[0]).toContain(`Generated from ${readme}:`)
    }
  })

  for (const [file, readme, prints] of keyless) {
    it(`${readme}: ${file} runs without a key`, () => {
      expect(run(file)).toMatch(prints)
    })
  }
})
