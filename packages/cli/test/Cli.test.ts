import * as CliConfig from "@effect/cli/CliConfig"
import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { describe, expect, it } from "@effect/vitest"
import { Cli, Commands, Install, Render } from "@switchyard/cli"
import type * as Plugin from "@switchyard/core/Plugin"
import { AdapterConfigError, knownAdapters } from "@switchyard/core/Provider"
import type { Adapter } from "@switchyard/core/Provider"
import * as Laws from "@switchyard/testing/Laws"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const root = path.resolve(__dirname, "../../..")
const bin = path.join(root, "packages/cli/src/bin.ts")
const tsx = path.join(root, "node_modules/.bin/tsx")

/** Every known adapter, standing in for a full installation. */
const adapters: ReadonlyArray<Adapter> = Object.entries(knownAdapters).map(([name, packageName]) => ({
  names: [name],
  packageName,
  make: (config) => Effect.fail(new AdapterConfigError(config.name, "not used in these tests"))
}))
const everything = { adapters, plugins: [] }

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-cli-"))
const write = (name: string, text: string) => {
  const file = path.join(dir, name)
  fs.writeFileSync(file, text)
  return file
}

const good = write(
  "good.yaml",
  [
    "providers:",
    "  openai:",
    "    adapter: openai",
    "    models:",
    "      mini: { capabilities: [tools, streaming] }",
    "      vision: { capabilities: [vision, streaming] }",
    "routes:",
    "  default:",
    "    targets: [openai/mini, openai/vision]",
    "    timeout: { total: 20s, attempt: 5s }",
    "    hedge: { delay: 2s }",
    "  seeing:",
    "    targets: [openai/vision]",
    "rules:",
    "  - name: pictures",
    "    when: { capabilities: [vision] }",
    "    route: seeing",
    "environments:",
    "  fine:",
    "    routes: { default: { timeout: { attempt: 8s } } }"
  ].join("\n") + "\n"
)
const overlaid = write(
  "overlaid.yaml",
  fs.readFileSync(good, "utf8").replace(
    "  fine:\n    routes: { default: { timeout: { attempt: 8s } } }",
    [
      "  broken:",
      "    routes: { default: { timeout: { attempt: 30s } } }"
    ].join("\n")
  )
)
const bad = write(
  "bad.yaml",
  [
    "providers:",
    "  openai:",
    "    adapter: openai",
    "    models: { mini: {} }",
    "routes:",
    "  default:",
    "    targets: [opnai/mini]"
  ].join("\n") + "\n"
)

describe("check", () => {
  it.effect("exits 0 on a good policy and 1 with one line per problem on a bad one", () =>
    Effect.gen(function*() {
      const ok = yield* Commands.check([good], { ...everything, format: "human" })
      expect(ok.exitCode).toBe(0)
      expect(ok.stdout).toBe("1 file checked: no problems\n")
      const ko = yield* Commands.check([good, bad], { ...everything, format: "human" })
      expect(ko.exitCode).toBe(1)
      expect(ko.stdout.split("\n")).toEqual([
        `${bad}:7:15: error SY201: undefined provider \`opnai\`; did you mean \`openai\`?`,
        "7 |     targets: [opnai/mini]",
        "  |               ^^^^^^^^^^",
        "2 files checked: 1 error, 0 warnings",
        ""
      ])
    }))

  it.effect("--format json lists the diagnostics with positions", () =>
    Effect.gen(function*() {
      const result = yield* Commands.check([bad], { ...everything, format: "json" })
      const json = JSON.parse(result.stdout)
      expect(json.errors).toBe(1)
      expect(json.diagnostics[0]).toMatchObject({ file: bad, line: 7, column: 15, code: "SY201", severity: "error" })
    }))

  it.effect("--env applies an overlay; its problems are reported", () =>
    Effect.gen(function*() {
      const fine = yield* Commands.check([good], { ...everything, format: "json", environment: "fine" })
      expect(fine.exitCode).toBe(0)
      const result = yield* Commands.check([overlaid], { ...everything, format: "json", environment: "broken" })
      expect(result.exitCode).toBe(1)
      expect(JSON.parse(result.stdout).diagnostics.map((d: any) => `${d.code}@${d.line}`)).toEqual(["SY304@20"])
      // without --env, every overlay is checked too
      const all = yield* Commands.check([overlaid], { ...everything, format: "json" })
      expect(JSON.parse(all.stdout).diagnostics.map((d: any) => `${d.code}@${d.line}`)).toEqual(["SY304@20"])
    }))

  it.effect("--scenario checks simulator scenarios with the same diagnostics; a scenario given as a policy is named", () =>
    Effect.gen(function*() {
      const scenario = write(
        "scenario.yaml",
        ["name: s", "duration: 1m", "arrivals: { rate: 5 }", "providers:", "  A: { latncy: { p50: 1s, p99: 2s } }"]
          .join(
            "\n"
          ) + "\n"
      )
      const result = yield* Commands.check([good], { ...everything, format: "human", scenarios: [scenario] })
      expect(result.exitCode).toBe(1)
      expect(result.stdout.split("\n")).toEqual([
        `${scenario}:5:8: error SY102: unknown key \`latncy\`; did you mean \`latency\`?`,
        "5 |   A: { latncy: { p50: 1s, p99: 2s } }",
        "  |        ^^^^^^",
        expect.stringMatching(/^ {2}hint: valid keys here: cost, latency, /),
        "2 files checked: 1 error, 0 warnings",
        ""
      ])
      const asPolicy = yield* Commands.check([scenario], { ...everything, format: "human" })
      expect(asPolicy.stdout).toContain(
        `note: ${scenario} looks like a simulator scenario; check it with --scenario ${scenario}`
      )
      const nothing = yield* Commands.check([], { ...everything, format: "human" })
      expect([nothing.exitCode, nothing.stderr]).toEqual([
        1,
        "switchyard check: give a policy file or --scenario <file>\n"
      ])
    }))

  it.effect("a file that cannot be read is an error, not a crash", () =>
    Effect.gen(function*() {
      const result = yield* Commands.check([path.join(dir, "nope.yaml")], { ...everything, format: "human" })
      expect(result.exitCode).toBe(1)
      expect(result.stdout).toContain("nope.yaml:1:1: error SY100: cannot read the policy")
    }))
})

describe("explain", () => {
  it.effect("prints the rule, the route, the ordered targets with skip reasons and the plan", () =>
    Effect.gen(function*() {
      const request = JSON.stringify({
        messages: [{ role: "user", content: "hello" }],
        tools: [{ name: "lookup", parameters: { type: "object" } }]
      })
      const result = yield* Commands.explain(good, request, { ...everything, format: "human" })
      expect(result.exitCode).toBe(0)
      const lines = result.stdout.split("\n")
      expect(lines[0]).toBe("rule:     (none matched: default route)")
      expect(lines).toContain("route:    default (fallback)")
      expect(lines.some((l) => /1\.\s+openai\/mini\s+eligible/.test(l))).toBe(true)
      expect(lines.some((l) => /-\s+openai\/vision\s+skipped: missing-capability/.test(l))).toBe(true)
      expect(lines).toContain("timeout:  total 20s, attempt 5s")
      expect(lines).toContain("hedge:    after 2s without an answer, up to 1 extra attempt")
    }))

  it("a hedge condition is shown with the hedge it gates", () => {
    expect(Render.hedge({ delayMs: 2250, maxHedged: 1, when: { slowRatio: 0.1, windowMs: 10_000, minThroughput: 40 } }))
      .toBe(
        "after 2.25s without an answer, up to 1 extra attempt, only while ≥ 10% of first attempts on the first target" +
          " outlast the delay (over the last 10s, judged from 40 attempts)"
      )
  })

  it.effect("notes say each word once: a budget's note is not prefixed with `budget:` again", () =>
    Effect.gen(function*() {
      const policy = path.join(root, "policies/budgets-and-limits.yaml")
      const request = JSON.stringify({ messages: [{ role: "user", content: "hi" }], caller: "alice" })
      const result = yield* Commands.explain(policy, request, {
        ...everything,
        plugins: (yield* Install.load).plugins,
        format: "human"
      })
      expect(result.exitCode).toBe(0)
      expect(result.stdout).toContain("· budget per-caller (caller:alice, day (Europe/Paris)): $2.00 of $2.00 left")
      expect(result.stdout).not.toContain("budget: budget")
      expect(result.stdout).not.toContain("rate-limit: rate limit")
    }))

  it.effect("follows a rule", () =>
    Effect.gen(function*() {
      const request = write(
        "vision.json",
        JSON.stringify({ messages: [{ role: "user", content: [{ type: "image", url: "https://x/y.png" }] }] })
      )
      const result = yield* Commands.explain(good, request, { ...everything, format: "json" })
      const json = JSON.parse(result.stdout)
      expect([json.rule, json.route]).toEqual(["pictures", "seeing"])
    }))

  it.effect("refuses a request that is not a GenerateRequest", () =>
    Effect.gen(function*() {
      const result = yield* Commands.explain(good, "{\"messages\": 3}", { ...everything, format: "human" })
      expect(result.exitCode).toBe(1)
      expect(result.stderr.split("\n").slice(0, 4)).toEqual([
        "<request>: not a valid request:",
        "<request>:1:14: error SY103: Expected a list, actual 3",
        "1 | {\"messages\": 3}",
        "  |              ^"
      ])
    }))

  it.effect("--format json keeps the policy's warnings, on stderr, as the human format does", () =>
    Effect.gen(function*() {
      const orphan = write(
        "orphan.yaml",
        fs.readFileSync(good, "utf8").replace("  seeing:\n", "  orphan:\n    targets: [openai/mini]\n  seeing:\n")
      )
      const request = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"
      const human = yield* Commands.explain(orphan, request, { ...everything, format: "human" })
      const json = yield* Commands.explain(orphan, request, { ...everything, format: "json" })
      expect(human.stderr).toContain("warning SY301: route `orphan` is unreachable")
      expect(json.exitCode).toBe(0)
      expect(JSON.parse(json.stdout).route).toBe("default")
      expect(json.stderr).toBe(human.stderr)
    }))

  it.effect("points at unknown keys of a request file, as check does in a policy", () =>
    Effect.gen(function*() {
      const request = write(
        "typo.json",
        "{\n  \"messages\": [{ \"role\": \"user\", \"content\": \"hi\" }],\n  \"modle\": \"x\"\n}\n"
      )
      const result = yield* Commands.explain(good, request, { ...everything, format: "human" })
      expect(result.exitCode).toBe(1)
      expect(result.stdout).toBe("")
      expect(result.stderr).toContain(`${request}:3:3: error SY102: unknown key \`modle\`; did you mean \`model\`?`)
    }))
})

describe("laws", () => {
  it.effect("property-tests each policy against every law, no provider called, and names the laws that hold", () =>
    Effect.gen(function*() {
      const result = yield* Commands.laws([good], { ...everything, format: "human", runs: 20, seed: 1 })
      expect(result.exitCode).toBe(0)
      expect(result.stdout).toContain(`${good}: ${Laws.allLaws.length} laws hold over 20 cases (`)
      expect(result.stdout).toContain(Laws.allLaws.join(", "))
      expect(result.stdout).toContain("1 policy file checked: every law holds")
    }))

  it.effect("--law chooses the laws; --format json gives the report", () =>
    Effect.gen(function*() {
      const result = yield* Commands.laws([good], {
        ...everything,
        format: "json",
        runs: 10,
        seed: 2,
        laws: ["L21", "L22"]
      })
      expect(result.exitCode).toBe(0)
      const { results } = JSON.parse(result.stdout)
      expect(results).toHaveLength(1)
      expect(results[0].file).toBe(good)
      expect(results[0].report.laws).toEqual(["L21", "L22"])
      expect(results[0].report.runs).toBe(10)
    }))

  it.effect("a law that does not hold prints the counterexample and the command that replays it", () =>
    Effect.gen(function*() {
      // A plugin whose stage routes a failed request once more: attempts multiply (L10).
      const naiveRetry: Plugin.Plugin<{ readonly times: number }> = {
        name: "naive-retry",
        packageName: "naive-retry",
        section: "naiveRetry",
        schema: Schema.Struct({ times: Schema.Number }),
        make: ({ times }) =>
          Effect.succeed({ name: "naive-retry", aroundRequest: (_info, run) => Effect.retry(run(), { times }) })
      }
      const policy = write("naive-retry.yaml", fs.readFileSync(good, "utf8") + "naiveRetry: { times: 1 }\n")
      const options = { ...everything, plugins: [naiveRetry], format: "human" as const, runs: 200, seed: 4 }
      const first = yield* Commands.laws([policy], options)
      expect(first.exitCode).toBe(1)
      expect(first.stdout).toContain(`${policy}: Law L`)
      expect(first.stdout).toContain("Counterexample after")
      expect(first.stdout).toContain("1 policy file checked: 1 failed")
      const replay = /replay: switchyard laws \S+ --seed (-?\d+) --path (\S+)/.exec(first.stdout)
      expect(replay).not.toBeNull()
      const again = yield* Commands.laws([policy], { ...options, seed: Number(replay![1]), path: replay![2] })
      // The same violation on the same case (the shrink count differs: the replay starts from the shrunk case).
      const body = (stdout: string) => stdout.split("\nreplay:")[0].replace(/after \d+ shrinks/, "").split("\n")
      expect(body(again.stdout)[0]).toBe(body(first.stdout)[0])
      expect(body(again.stdout).slice(2)).toEqual(body(first.stdout).slice(2))
    }))

  it.effect("an unknown law, a bad --runs and a broken policy are errors", () =>
    Effect.gen(function*() {
      const unknown = yield* Commands.laws([good], { ...everything, format: "human", laws: ["L23"] })
      expect(unknown.exitCode).toBe(1)
      expect(unknown.stderr).toContain("switchyard laws: unknown law `L23`; did you mean")
      expect(unknown.stderr).toContain(`known: ${Laws.allLaws.join(", ")}`)
      const runs = yield* Commands.laws([good], { ...everything, format: "human", runs: 0 })
      expect(runs.stderr).toContain("--runs takes a whole number of cases above 0, got 0")
      const broken = yield* Commands.laws([bad], { ...everything, format: "human" })
      expect(broken.exitCode).toBe(1)
      expect(broken.stdout).toContain("error SY")
      expect(broken.stdout).toContain("1 policy file checked: 1 failed")
    }))

  it.effect("prototype keys are not laws; a bad --path or one without --seed is a one-line error", () =>
    Effect.gen(function*() {
      for (const law of ["toString", "constructor"]) {
        const result = yield* Commands.laws([good], { ...everything, format: "human", laws: [law] })
        expect(result.exitCode).toBe(1)
        expect(result.stderr).toContain(`switchyard laws: unknown law \`${law}\``)
      }
      const garbage = yield* Commands.laws([good], { ...everything, format: "json", seed: 1, path: "garbage" })
      expect(garbage.exitCode).toBe(1)
      expect(garbage.stdout).toBe("")
      expect(garbage.stderr).toMatch(/^switchyard laws: .*path.*\n$/)
      const unseeded = yield* Commands.laws([good], { ...everything, format: "human", path: "0:1" })
      expect(unseeded.exitCode).toBe(1)
      expect(unseeded.stderr).toBe(
        "switchyard laws: --path replays a failure of one seed: give the --seed it was printed with\n"
      )
    }))
})

describe("schema", () => {
  it.effect("prints a JSON Schema that includes installed plugins' sections", () =>
    Effect.gen(function*() {
      const installed = yield* Install.load
      const result = yield* Commands.schema(installed)
      const schema = JSON.parse(result.stdout)
      expect(schema.properties.routes).toBeDefined()
      for (const plugin of installed.plugins) expect(schema.properties[plugin.section]).toBeDefined()
      // Targets in their short form (`openai/gpt-4o`, `route:backup`), as every example writes them, or long.
      const targets = schema.properties.routes.additionalProperties.properties.targets.items.anyOf
      expect(targets[0].type).toBe("string")
      expect(Object.keys(targets[1].properties).sort()).toEqual(["priority", "route", "target", "weight"])
    }))

  it.effect("--scenario prints the JSON Schema of scenario files, closed to unknown keys", () =>
    Effect.gen(function*() {
      const installed = yield* Install.load
      const schema = JSON.parse((yield* Commands.schema({ ...installed, scenario: true })).stdout)
      expect(schema.required).toEqual(["name", "duration", "arrivals", "providers"])
      expect(schema.additionalProperties).toBe(false)
      const behaviour = schema.properties.providers.additionalProperties
      expect(Object.keys(behaviour.properties)).toEqual(expect.arrayContaining(["latency", "errors", "faults"]))
      // A duration is a number of milliseconds or a string with a unit.
      expect(schema.properties.duration.anyOf.map((t: { type: string }) => t.type)).toEqual(["number", "string"])
    }))
})

describe("policies/", () => {
  const policiesDir = path.join(root, "policies")
  const files = fs.readdirSync(policiesDir).filter((f) => f.endsWith(".yaml")).map((f) => path.join(policiesDir, f))

  it("holds at least six policies, each with a comment header", () => {
    expect(files.length).toBeGreaterThanOrEqual(6)
    for (const file of files) expect(fs.readFileSync(file, "utf8").startsWith("#")).toBe(true)
  })

  // Every policy the repository ships: the examples users copy, and the benchmarks' policies.
  const shipped = [
    ...files,
    path.join(root, "benchmarks/chaos/default-policy.yaml"),
    path.join(root, "benchmarks/overhead/policy.yaml"),
    path.join(root, "examples/two-adapters/policy.yaml")
  ]

  it.effect("every shipped policy checks clean with what the CLI installs, API keys unset", () =>
    Effect.gen(function*() {
      const installed = yield* Install.load
      // Every adapter the compiler knows of is installed, the simulator's `simulated` included.
      expect(installed.adapters.flatMap((a) => a.names).sort()).toEqual(Object.keys(knownAdapters).sort())
      const result = yield* Commands.check(shipped, { ...installed, format: "json" })
      // The only remark allowed is an unset environment variable (SY105): no errors, and no
      // warnings such as an unreachable route.
      const remarks = JSON.parse(result.stdout).diagnostics.filter((d: any) => d.code !== "SY105")
      expect(remarks.map((d: any) => `${d.file}:${d.line}:${d.column} ${d.code} ${d.message}`)).toEqual([])
      expect(result.exitCode).toBe(0)
    }))
})

describe("the bin", () => {
  it("exits 1 and prints tsc-style lines for a bad policy", () => {
    const ko = spawnSync(tsx, [bin, "check", bad], { cwd: root, encoding: "utf8" })
    expect(ko.status).toBe(1)
    expect(ko.stdout).toContain(`${bad}:7:15: error SY201: undefined provider \`opnai\``)
    expect(ko.stdout).toContain("1 file checked: 1 error")
  })

  it("simulates a production policy against a scenario, its providers stood in for", () => {
    const scenario = write(
      "scenario.yaml",
      [
        "name: short outage",
        "duration: 20s",
        "seed: 5",
        "arrivals: { rate: 10 }",
        "providers:",
        "  A:",
        "    latency: { p50: 200ms, p99: 1s }",
        "    faults: [{ from: 5s, to: 15s, errors: { \"503\": 1 } }]",
        "  B: { latency: { p50: 300ms, p99: 1s } }"
      ].join("\n") + "\n"
    )
    const production = write(
      "production.yaml",
      [
        "providers:",
        "  openai: { adapter: openai, apiKey: \"${env:SWITCHYARD_TEST_UNSET_KEY}\", models: { mini: {} } }",
        "  mistral: { adapter: mistral, apiKey: \"${env:SWITCHYARD_TEST_UNSET_KEY}\", models: { small: {} } }",
        "routes:",
        "  default:",
        "    targets: [openai/mini, mistral/small]",
        "    timeout: { total: 10s, attempt: 5s }"
      ].join("\n") + "\n"
    )
    const simulate = (...extra: Array<string>) =>
      spawnSync(tsx, [bin, "simulate", production, "--scenario", scenario, ...extra], { cwd: root, encoding: "utf8" })
    const missing = simulate()
    expect(missing.status).toBe(1)
    expect(missing.stderr).toContain("the scenario has no provider `openai` (it has A, B)")
    // `--compare naive` runs each baseline once (they always run: the scenario's bars compare with them).
    const ok = simulate("--provider", "openai=A", "--provider", "mistral=B", "--compare", "naive", "--format", "json")
    expect(ok.stderr).toBe("")
    expect(ok.status).toBe(0)
    const json = JSON.parse(ok.stdout)
    // Without --seed, the scenario's seed.
    expect(json.seed).toBe(5)
    expect(json.runs.map((run: any) => run.policy)).toEqual(["production", "naive", "retry-only"])
    // A usage error is one line on stderr, nothing on stdout (which may be redirected JSON).
    const usage = simulate("--seed", "abc", "--format", "json")
    expect(usage.status).toBe(1)
    expect(usage.stdout).toBe("")
    expect(usage.stderr).toBe("switchyard simulate: --seed takes a whole number, e.g. --seed 7 (got `abc`)\n")
    expect(Object.keys(json.runs[0].metrics.attemptsByProvider).sort()).toEqual(["mistral", "openai"])
  })
})

describe("usage errors", () => {
  it("name an unknown option instead of the required one it hides, with a did-you-mean", () => {
    expect(Cli.usageError(["simulate", "p.yaml", "--scenaro", "s.yaml"])).toBe(
      "switchyard simulate: unknown option `--scenaro`; did you mean `--scenario`?\n" +
        "its options: --scenario, --compare, --provider, --seed, --env, --report, --format (switchyard simulate --help)"
    )
    expect(Cli.usageError(["check", "--formt=json", "p.yaml"])).toMatch(
      /^switchyard check: unknown option `--formt`; did you mean `--format`\?/
    )
    expect(Cli.usageError(["simulate", "p.yaml", "--scenario=s.yaml", "--seed", "3", "--help"])).toBeUndefined()
  })

  it("explain a --provider without `=` instead of @effect/cli's \"text options do not have a default value\"", () => {
    const message = "switchyard simulate: --provider takes POLICY_PROVIDER=SCENARIO_PROVIDER, e.g. --provider openai=A"
    expect(Cli.usageError(["simulate", "p.yaml", "--provider", "openai"])).toBe(`${message} (got \`openai\`)`)
    expect(Cli.usageError(["simulate", "p.yaml", "--provider"])).toBe(message)
    expect(Cli.usageError(["simulate", "p.yaml", "--provider=openai="])).toBe(`${message} (got \`openai=\`)`)
    expect(
      Cli.usageError(["simulate", "p.yaml", "--scenario=s.yaml", "--provider", "openai=A", "--provider=anthropic=B"])
    ).toBeUndefined()
  })

  it("say which option lacks its value, and which one is given twice", () => {
    expect(Cli.usageError(["simulate", "p.yaml", "--scenario", "s.yaml", "--seed"])).toBe(
      "switchyard simulate: --seed needs a value, e.g. --seed 7"
    )
    expect(Cli.usageError(["simulate", "p.yaml", "--scenario", "s.yaml", "--format"])).toBe(
      "switchyard simulate: --format needs a value, e.g. --format json"
    )
    expect(Cli.usageError(["simulate", "p.yaml", "--scenario", "a.yaml", "--scenario", "b.yaml"])).toBe(
      "switchyard simulate: --scenario is given more than once; give it once"
    )
    // Repeatable options and flags are left alone.
    expect(Cli.usageError(["simulate", "p.yaml", "--scenario", "s.yaml", "--compare", "naive", "--compare", "q.yaml"]))
      .toBeUndefined()
    expect(Cli.usageError(["check", "p.yaml", "--scenario", "a.yaml", "--scenario", "b.yaml"])).toBeUndefined()
    expect(Cli.usageError(["schema", "--scenario"])).toBeUndefined()
  })

  it("check whole numbers and choices, and name a required option left out", () => {
    expect(Cli.usageError(["laws", "p.yaml", "--runs", "1.5"])).toBe(
      "switchyard laws: --runs takes a whole number, e.g. --runs 100 (got `1.5`)"
    )
    expect(Cli.usageError(["simulate", "p.yaml", "--scenario", "s.yaml", "--seed=abc"])).toBe(
      "switchyard simulate: --seed takes a whole number, e.g. --seed 7 (got `abc`)"
    )
    expect(Cli.usageError(["simulate", "p.yaml", "--scenario", "s.yaml", "--seed", "-3"])).toBeUndefined()
    expect(Cli.usageError(["simulate", "p.yaml", "--scenario", "s.yaml", "--format", "human"])).toBe(
      "switchyard simulate: --format is table or json (got `human`)"
    )
    expect(Cli.usageError(["check", "p.yaml", "--format=table"])).toBe(
      "switchyard check: --format is human or json (got `table`)"
    )
    expect(Cli.usageError(["check", "p.yaml", "--format=json"])).toBeUndefined()
    expect(Cli.usageError(["simulate", "p.yaml"])).toBe(
      "switchyard simulate: --scenario is required, e.g. --scenario scenario.yaml (switchyard simulate --help)"
    )
    expect(Cli.usageError(["explain", "p.yaml", "--format", "json"])).toBe(
      "switchyard explain: --request is required, e.g. --request request.json (switchyard explain --help)"
    )
    expect(Cli.usageError(["simulate", "--help"])).toBeUndefined()
    expect(Cli.usageError(["explain", "p.yaml", "--request={}"])).toBeUndefined()
  })

  it("name an unknown command with a did-you-mean, and never crash on a prototype key", () => {
    const commands = "commands: check, explain, laws, schema, simulate (switchyard --help)"
    expect(Cli.usageError(["chek", "p.yaml"])).toBe(
      `switchyard: unknown command \`chek\`; did you mean \`check\`?\n${commands}`
    )
    expect(Cli.usageError(["nonsense", "--x"])).toBe(`switchyard: unknown command \`nonsense\`\n${commands}`)
    // `constructor` and `toString` are on every object's prototype: they are not commands either.
    expect(Cli.usageError(["constructor", "x"])).toBe(`switchyard: unknown command \`constructor\`\n${commands}`)
    expect(Cli.usageError(["toString"])).toBe(`switchyard: unknown command \`toString\`\n${commands}`)
    // The value of a built-in option is not the command.
    expect(Cli.usageError(["--log-level", "debug", "check", "p.yaml", "--formt", "json"])).toMatch(
      /^switchyard check: unknown option `--formt`; did you mean `--format`\?/
    )
    expect(Cli.usageError(["--log-level", "debug", "chek"])).toMatch(/^switchyard: unknown command `chek`/)
    expect(Cli.usageError(["--log-level=debug", "check", "p.yaml"])).toBeUndefined()
    expect(Cli.usageError(["--completions", "bash"])).toBeUndefined()
    expect(Cli.usageError(["--help"])).toBeUndefined()
    expect(Cli.usageError([])).toBeUndefined()
  })

  it("suggest a value that works, and refuse whole numbers beyond what is exact", () => {
    expect(Cli.usageError(["laws", "p.yaml", "--law"])).toBe("switchyard laws: --law needs a value, e.g. --law L1")
    expect(Cli.usageError(["laws", "p.yaml", "--seed", "99999999999999999999"])).toBe(
      "switchyard laws: --seed takes a whole number, e.g. --seed 7 (got `99999999999999999999`)"
    )
    expect(Cli.usageError(["laws", "p.yaml", "--seed", String(Number.MAX_SAFE_INTEGER)])).toBeUndefined()
  })

  it.effect("--help is plain text where the output is not a terminal, coloured where it is", () =>
    Effect.gen(function*() {
      const out: Array<string> = []
      const base = yield* Console.consoleWith(Effect.succeed)
      const capture: Console.Console = {
        ...base,
        log: (...args) => Effect.sync(() => void out.push(args.join(" "))),
        error: (...args) => Effect.sync(() => void out.push(args.join(" ")))
      }
      const help = (plain: boolean) =>
        Cli.withoutColour(Cli.run(["node", "switchyard", "check", "--help"]), { stdout: plain, stderr: plain }).pipe(
          Effect.withConsole(capture),
          Effect.provide(NodeContext.layer),
          Effect.zipRight(Effect.sync(() => out.splice(0).join("\n")))
        )
      const plain = yield* help(true)
      expect(plain).toContain("--format human | json")
      expect(plain).not.toContain("\u001b[")
      expect(yield* help(false)).toContain("\u001b[")
      expect(Cli.stripAnsi("\u001b[0;1mUSAGE\u001b[0m")).toBe("USAGE")
    }))

  it("know exactly the options each subcommand's --help lists", () => {
    for (const subcommand of Cli.subcommands as ReadonlyArray<Command.Command<string, never, never, any>>) {
      const help = HelpDoc.toAnsiText(Command.getHelp(subcommand, CliConfig.defaultConfig))
      const builtIn = ["--completions", "--log-level", "--help", "--wizard", "--version"]
      const listed = new Set([...help.matchAll(/--[a-z][a-z-]*/g)].map((m) => m[0]).filter((o) => !builtIn.includes(o)))
      const [name] = [...Command.getNames(subcommand)]
      expect([...listed].sort(), name).toEqual([...Cli.optionsOf[name!]!].sort())
    }
  })
})
