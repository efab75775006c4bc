import { describe, expect, it } from "@effect/vitest"
import { Diagnostic, Policy } from "@switchyard/policy"
import * as Schema from "effect/Schema"
import { adapters, base, budgetPlugin, yaml } from "./fixtures.js"

interface Case {
  readonly code: string
  readonly text: string
  readonly line: number
  /** The token the diagnostic must point at, on that line (its first occurrence). */
  readonly token: string
  readonly options?: Policy.Options
}

const columnOf = (c: Case) => c.text.split("\n")[c.line - 1]!.indexOf(c.token) + 1

// One small policy per diagnostic code; each must yield exactly that one diagnostic, at that place.
const cases: ReadonlyArray<Case> = [
  { code: "SY100", text: yaml(...base, "rules: [1, 2"), line: 12, token: "" },
  { code: "SY101", text: yaml(...base.slice(0, 7), "      m: {}", ...base.slice(7)), line: 8, token: "m: {}" },
  { code: "SY102", text: yaml(...base, "    stratgy: fallback"), line: 11, token: "stratgy" },
  { code: "SY103", text: yaml(...base, "    strategy: fallbak"), line: 11, token: "fallbak" },
  {
    code: "SY104",
    text: yaml(...base, "  other:", "    strategy: fallback", "rules: [{ route: other }]"),
    line: 11,
    token: "other"
  },
  {
    code: "SY105",
    text: yaml(...base.map((l) => l.replace("sk-test", "${env:NOT_SET_KEY}"))),
    line: 4,
    token: "${env:NOT_SET_KEY}",
    options: { adapters, env: {} }
  },
  {
    code: "SY106",
    text: yaml(...base.map((l) => l.replace("sk-test", "${vault:key}"))),
    line: 4,
    token: "${vault:key}"
  },
  {
    code: "SY107",
    text: yaml(...base, "environments:", "  staging: {}"),
    line: 11,
    token: "environments",
    options: { adapters, environment: "prod" }
  },
  { code: "SY201", text: yaml(...base.map((l) => l.replace("p/n", "q/n"))), line: 10, token: "q/n" },
  { code: "SY202", text: yaml(...base.map((l) => l.replace("p/n", "p/o"))), line: 10, token: "p/o" },
  {
    code: "SY203",
    text: yaml(...base.map((l) => l.replace("p/n", "route:nowhere"))),
    line: 10,
    token: "route:nowhere"
  },
  { code: "SY204", text: yaml(...base, "rules:", "  - route: nowhere"), line: 12, token: "nowhere" },
  { code: "SY205", text: yaml(...base, "aliases:", "  fast: route:nowhere"), line: 12, token: "route:nowhere" },
  { code: "SY206", text: yaml(...base, "defaultRoute: main"), line: 11, token: "main" },
  {
    code: "SY207",
    text: yaml(...base),
    line: 3,
    token: "openai",
    options: { adapters: adapters.filter((a) => !a.names.includes("openai")) }
  },
  { code: "SY208", text: yaml(...base, "budget:", "  limit: 10"), line: 11, token: "budget" },
  {
    code: "SY209",
    text: yaml(...base.map((l) => l.replace("adapter: openai", "adapter: opnai"))),
    line: 3,
    token: "opnai"
  },
  { code: "SY210", text: yaml(...base.map((l) => l.replace("p/n", "gpt-4o"))), line: 10, token: "gpt-4o" },
  { code: "SY301", text: yaml(...base, "  spare:", "    targets: [p/m]"), line: 11, token: "spare" },
  {
    code: "SY302",
    text: yaml(...base.map((l) => l.replace("p/n", "route:b")), "  b:", "    targets: [route:default]"),
    line: 12,
    token: "route:default"
  },
  {
    code: "SY303",
    text: yaml(...base, "    strategy: weighted", "    targets: [{ target: p/m, weight: 0 }]").replace(
      "    targets: [p/m, p/n]\n",
      ""
    ),
    line: 10,
    token: "weighted"
  },
  { code: "SY304", text: yaml(...base, "    timeout: { total: 5s, attempt: 5s }"), line: 11, token: "5s }" },
  { code: "SY305", text: yaml(...base, "    timeout: { attempt: 5s, ttft: 8s }"), line: 11, token: "8s" },
  { code: "SY306", text: yaml(...base, "    hedge: { delay: 1s, maxHedged: 11 }"), line: 11, token: "11" },
  { code: "SY307", text: yaml(...base, "    retry: { maxAttempts: 0 }"), line: 11, token: "0 }" },
  {
    code: "SY307",
    text: yaml(...base, "    hedge: { delay: 1s, when: { slowRatio: 0, window: 10s } }"),
    line: 11,
    token: "0, window"
  },
  { code: "SY308", text: yaml(...base, "    retry: { baseDelay: 10s, maxDelay: 2s }"), line: 11, token: "10s" },
  { code: "SY309", text: yaml(...base.map((l) => l.replace("[p/m, p/n]", "[]"))), line: 10, token: "targets" },
  {
    code: "SY310",
    text: yaml(...base, "rules:", "  - name: all", "    route: default", "  - name: late", "    route: default"),
    line: 14,
    token: "name: late"
  },
  { code: "SY311", text: yaml(...base.map((l) => l.replace("p/n", "p/m"))), line: 10, token: "p/m]" },
  {
    code: "SY312",
    text: yaml(...base, "    strategy: fallback", "    targets: [{ target: p/m, priority: 1 }]").replace(
      "    targets: [p/m, p/n]\n",
      ""
    ),
    line: 11,
    token: "priority"
  },
  {
    code: "SY313",
    text: yaml(...base, "rules:", "  - when: { minInputTokens: 10, maxInputTokens: 5 }", "    route: default"),
    line: 12,
    token: "10"
  },
  {
    code: "SY314",
    text: yaml(...base, "    retry: { on: [RateLimited, InvalidRequest] }"),
    line: 11,
    token: "InvalidRequest"
  },
  {
    code: "SY315",
    text: yaml(...base, "    retry: { maxAttempts: 5 }", "maxAttemptsPerRequest: 3"),
    line: 11,
    token: "5"
  },
  {
    code: "SY316",
    text: yaml(...base, "rules:", "  - when: { minInputTokens: 100000 }", "    route: default"),
    line: 12,
    token: "100000"
  },
  {
    code: "SY317",
    text: yaml(...base, "rules:", "  - when: { capabilities: [vision] }", "    route: default"),
    line: 12,
    token: "[vision]"
  }
]

describe("diagnostic codes", () => {
  it("has an example for every code", () => {
    expect(new Set(cases.map((c) => c.code))).toEqual(new Set(Object.keys(Diagnostic.codes)))
  })

  for (const c of cases) {
    it(`${c.code}: ${Diagnostic.codes[c.code as Diagnostic.Code]}`, () => {
      const diagnostics = Policy.check(c.text, "policy.yaml", c.options ?? { adapters })
      expect(diagnostics.map((d) => `${d.code}@${d.line}:${d.column}`)).toEqual([`${c.code}@${c.line}:${columnOf(c)}`])
    })
  }

  it("a plugin's own check is mapped to the position in its section", () => {
    const text = yaml(...base, "budget:", "  limit: 10", "  downgradeTo: cheap")
    const diagnostics = Policy.check(text, "policy.yaml", { adapters, plugins: [budgetPlugin] })
    expect(diagnostics.map((d) => `${d.code}@${d.line}:${d.column}`)).toEqual(["BUDGET01@13:16"])
  })

  it("a plugin section is decoded by the plugin's schema, with did-you-mean", () => {
    const text = yaml(...base, "budget:", "  limt: 10")
    const diagnostics = Policy.check(text, "policy.yaml", { adapters, plugins: [budgetPlugin] })
    expect(diagnostics.map((d) => `${d.code}@${d.line}:${d.column} ${d.message}`)).toEqual([
      "SY104@11:1 missing required key `limit` in `budget`",
      "SY102@12:3 unknown key `limt`; did you mean `limit`?"
    ])
  })

  it("adapter options are decoded by the installed adapter's schema, at their positions", () => {
    const withOptions = adapters.map((adapter) =>
      adapter.names.includes("openai")
        ? { ...adapter, options: Schema.Struct({ organization: Schema.optional(Schema.String) }) }
        : adapter
    )
    const text = yaml(...base.slice(0, 4), "    options: { organisation: acme }", ...base.slice(4))
    const diagnostics = Policy.check(text, "policy.yaml", { adapters: withOptions })
    expect(diagnostics.map((d) => `${d.code}@${d.line}:${d.column} ${d.message}`)).toEqual([
      "SY102@5:16 unknown key `organisation`; did you mean `organization`?"
    ])
    // Without the adapter's schema (or without adapters, as an editor checks), options are not judged.
    expect(Policy.check(text, "policy.yaml", { adapters })).toEqual([])
    expect(Policy.check(text.replace("organisation", "organization"), "policy.yaml", { adapters: withOptions }))
      .toEqual([])
  })
})
