/**
 * The READMEs' examples: the TypeScript ones that need no API key run as a user would run them (`npx
 * tsx <file>`), from the copies `scripts/readme-examples.ts` makes (`pnpm check` type-checks every copy,
 * keyed or not); every YAML policy and scenario checks without errors.
 */
import { describe, expect, it } from "@effect/vitest"
import { adapter as anthropic } from "@switchyard/anthropic"
import { plugin as budget } from "@switchyard/budget"
import { plugin as circuit } from "@switchyard/circuit"
import { adapter as google } from "@switchyard/google"
import { adapter as groq } from "@switchyard/groq"
import { adapter as mistral } from "@switchyard/mistral"
import { adapter as openai } from "@switchyard/openai"
import { Diagnostic, Policy } from "@switchyard/policy"
import { adapter as simulated } from "@switchyard/simulator"
import * as Scenario from "@switchyard/simulator/Scenario"
import { Either } from "effect"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { blocks, copyAll, nameOf, out as copies, readmes, root } from "../scripts/readme-examples.js"

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
    const count = copyAll()
    const expected = readmes().reduce(
      (sum, readme) => sum + blocks(fs.readFileSync(path.join(root, readme), "utf8"), "ts").length,
      0
    )
    expect(count).toBe(expected)
    expect(fs.readdirSync(copies)).toHaveLength(expected)
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

  // A YAML block with top-level `providers` is a whole policy, one with `arrivals` a scenario; the
  // others are excerpts of a section (budget, circuit), whose complete policies are in policies/.
  const yaml = readmes().flatMap((readme) =>
    blocks(fs.readFileSync(path.join(root, readme), "utf8"), "yaml").map((block) => ({ readme, ...block }))
  )
  const scenarios = yaml.filter(({ code }) => /^arrivals:/m.test(code))
  const policies = yaml.filter(({ code }) => /^providers:/m.test(code) && !scenarios.some((s) => s.code === code))

  it("has the YAML examples it checks", () => {
    expect(policies.map(({ readme }) => nameOf(readme))).toEqual(
      expect.arrayContaining(["root", "anthropic", "google", "groq", "mistral", "openai", "policy"])
    )
    expect(scenarios.map(({ readme }) => nameOf(readme))).toEqual(["simulator"])
  })

  for (const { code, line, readme } of policies) {
    it(`${readme}:${line}: the policy checks without errors`, () => {
      const adapters = [openai, anthropic, google, groq, mistral, simulated]
      const errors = Policy.check(code, `${readme}:${line}`, { adapters, plugins: [circuit, budget], env: {} })
        .filter((d) => d.severity === "error")
      expect(errors.map((d) => Diagnostic.format(d, code))).toEqual([])
    })
  }

  for (const { code, line, readme } of scenarios) {
    it(`${readme}:${line}: the scenario checks without errors`, () => {
      const parsed = Scenario.parse(code, `${readme}:${line}`)
      expect(Either.isLeft(parsed) ? parsed.left.message : "valid").toBe("valid")
    })
  }
})
