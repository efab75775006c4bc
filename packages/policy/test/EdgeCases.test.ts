import { describe, expect, it } from "@effect/vitest"
import { Diagnostic, Policy, Validate } from "@switchyard/policy"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { adapters, base, yaml } from "./fixtures.js"

const at = (diagnostics: ReadonlyArray<Diagnostic.Diagnostic>) =>
  diagnostics.map((d) => `${d.severity} ${d.code}@${d.line}:${d.column} ${d.message}`)

const codesOf = (diagnostics: ReadonlyArray<Diagnostic.Diagnostic>) =>
  diagnostics.map((d) => `${d.code}@${d.line}:${d.column}`)

/** `line:column` (1-based) of the first occurrence of `token` on line `line` of `text`. */
const place = (text: string, line: number, token: string) =>
  `${line}:${text.split(/\r?\n/)[line - 1]!.indexOf(token) + 1}`

describe("YAML edge cases", () => {
  it("merge keys (`<<`) merge the anchored mapping, keys written in place winning", () => {
    const text = yaml(
      "providers:",
      "  p: &common",
      "    adapter: openai",
      "    apiKey: sk-p",
      "    models:",
      "      m: {}",
      "  q:",
      "    <<: *common",
      "    apiKey: sk-q",
      "  r:",
      "    <<: [*common, { baseUrl: http://r }]",
      "    models: { n: {} }",
      "routes:",
      "  default:",
      "    targets: [p/m, q/m, r/n]"
    )
    const analysis = Policy.analyze(text, "p.yaml", { adapters, env: {} })
    expect(at(analysis.diagnostics)).toEqual([])
    const providers = analysis.document!.providers
    expect(providers.q).toMatchObject({ adapter: "openai", apiKey: "sk-q", models: { m: {} } })
    expect(providers.r).toMatchObject({ adapter: "openai", apiKey: "sk-p", baseUrl: "http://r", models: { n: {} } })
    expect(Object.keys(providers.r!.models)).toEqual(["n"])
  })

  it("a problem in a merged mapping is reported once, at the anchored node", () => {
    const text = yaml(
      "providers:",
      "  p: &common",
      "    adapter: openai",
      "    models: { m: { contextWindw: 5 } }",
      "  q: { <<: *common, apiKey: k }",
      "routes:",
      "  default:",
      "    targets: [p/m, q/m]"
    )
    expect(codesOf(Policy.check(text, "p.yaml"))).toEqual(["SY102@4:20"])
  })

  it("a merge key whose value is not a mapping is an error", () => {
    const text = yaml(...base.slice(0, 2), "    <<: 5", ...base.slice(2))
    expect(at(Policy.check(text, "p.yaml"))).toEqual([
      "error SY103@3:9 the merge key `<<` takes a mapping, an alias of one (`*name`) or a list of them"
    ])
  })

  it("an anchored node used twice is reported once", () => {
    const text = yaml(
      "providers:",
      "  p: &same { adapter: openai, models: { m: { contextWindw: 5 } } }",
      "  q: *same",
      "routes:",
      "  default:",
      "    targets: [p/m, q/m]"
    )
    expect(codesOf(Policy.check(text, "p.yaml"))).toEqual([`SY102@${place(text, 2, "contextWindw")}`])
    const checked = Validate.check(
      Schema.Struct({ a: Schema.Struct({ n: Schema.Number }), b: Schema.Struct({ n: Schema.Number }) }),
      "a: &x { n: one }\nb: *x\n",
      "v.yaml"
    )
    expect(codesOf(checked.diagnostics)).toEqual(["SY103@1:12"])
  })

  it("keys are the text written: `1.10` stays `1.10`, `0x1F` is not 31, `1.0` is not a duplicate of `1`", () => {
    const text = yaml(
      "providers:",
      "  p:",
      "    adapter: openai",
      "    models:",
      "      1: {}",
      "      1.0: {}",
      "      1.10: {}",
      "      0x1F: {}",
      "routes:",
      "  default:",
      "    targets: [p/1, p/1.0, p/1.10, p/0x1F]"
    )
    const analysis = Policy.analyze(text, "p.yaml", { adapters, env: {} })
    expect(at(analysis.diagnostics)).toEqual([])
    expect(Object.keys(analysis.document!.providers.p!.models)).toEqual(["1", "1.0", "1.10", "0x1F"])
  })

  it("a list or a mapping as a key is an error, not a name like `[\"a\",\"b\"]`", () => {
    const text = yaml(...base.slice(0, 7), "      ? [a, b]", "      : {}", ...base.slice(7))
    expect(at(Policy.check(text, "p.yaml"))).toEqual([
      "error SY103@8:9 a key must be a plain value (a name), not a list or a mapping"
    ])
  })

  it("a byte order mark does not shift the columns of line 1, nor the caret", () => {
    const text = "\uFEFF" + yaml("provders:", ...base)
    const diagnostics = Policy.check(text, "p.yaml")
    expect(codesOf(diagnostics)).toEqual(["SY102@1:1"])
    expect(Diagnostic.format(diagnostics[0]!, text).split("\n").slice(1, 3)).toEqual([
      "1 | provders:",
      "  | ^^^^^^^^"
    ])
    // And a valid policy with a BOM is valid.
    expect(Policy.check("\uFEFF" + yaml(...base), "p.yaml")).toEqual([])
  })

  it("CRLF line endings keep lines and columns exact", () => {
    const text = yaml(...base, "    stratgy: fallback", "    timeout: { total: 1s, attempt: 2s }").replace(
      /\n/g,
      "\r\n"
    )
    const diagnostics = Policy.check(text, "p.yaml")
    expect(codesOf(diagnostics)).toEqual(["SY102@11:5", `SY304@${place(text, 12, "2s")}`])
    expect(Diagnostic.format(diagnostics[0]!, text).split("\n")[1]).toEqual("11 |     stratgy: fallback")
  })

  it("a file that is only `---` is as empty as an empty file", () => {
    const empty = codesOf(Policy.check("", "p.yaml"))
    expect(empty).toEqual(["SY104@1:1", "SY104@1:1"])
    expect(codesOf(Policy.check("---\n", "p.yaml"))).toEqual(empty)
    expect(codesOf(Policy.check("# nothing yet\n--- # really\n", "p.yaml"))).toEqual(empty)
  })

  it("a second document says what is wrong without naming the YAML library's API", () => {
    const text = yaml(...base, "---", "routes: {}")
    expect(at(Policy.check(text, "p.yaml"))).toEqual([
      "error SY100@11:1 a policy is a single YAML document, but a `---` line starts another one here"
    ])
  })

  it("an unknown tag is an error, not a plain string used as is", () => {
    const text = yaml(...base.map((l) => l.replace("apiKey: sk-test", "apiKey: !secret openai-key")))
    const diagnostics = Policy.check(text, "p.yaml")
    expect(codesOf(diagnostics)).toEqual(["SY100@4:13"])
    expect(diagnostics[0]!.severity).toBe("error")
    expect(diagnostics[0]!.message).toContain("!secret")
    // Standard tags still work.
    expect(Policy.check(yaml(...base, "    retry: { maxAttempts: !!int \"2\" }"), "p.yaml")).toEqual([])
  })

  it("an empty name is never suggested as a did-you-mean", () => {
    const text = yaml(...base.slice(0, 5), "      \"\": {}", ...base.slice(7)).replace("[p/m, p/n]", "[p/x]")
    expect(at(Policy.check(text, "p.yaml"))).toEqual([
      "error SY202@9:15 provider `p` has no model `x`"
    ])
  })
})

describe("names that are also properties of Object.prototype", () => {
  it("`constructor/m`, `route:toString` and friends are undefined references, not a crash", () => {
    const text = yaml(
      ...base.map((l) => l.replace("[p/m, p/n]", "[p/m, constructor/m, p/toString, route:hasOwnProperty]")),
      "rules:",
      "  - route: valueOf",
      "aliases:",
      "  a: route:toString"
    )
    expect(codesOf(Policy.check(text, "p.yaml"))).toEqual([
      `SY201@${place(text, 10, "constructor/m")}`,
      `SY202@${place(text, 10, "p/toString")}`,
      `SY203@${place(text, 10, "route:hasOwnProperty")}`,
      "SY204@12:12",
      "SY205@14:6"
    ])
  })

  it("an adapter named `constructor` is unknown, not a package named after a function", () => {
    const text = yaml(...base.map((l) => l.replace("adapter: openai", "adapter: constructor")))
    expect(at(Policy.check(text, "p.yaml", { adapters }))).toEqual([
      "error SY209@3:14 unknown adapter `constructor`"
    ])
  })

  it("`__proto__` as a name is an error, not a definition that vanishes", () => {
    const text = yaml(...base.map((l) => l.replace("  p:", "  __proto__:")))
    expect(codesOf(Policy.check(text, "p.yaml"))[0]).toEqual("SY103@2:3")
  })
})

describe("interpolation edge cases", () => {
  const withKey = (value: string) => yaml(...base.map((l) => l.replace("sk-test", () => value)))

  it.effect("an unterminated `${` is an error, not a literal API key", () =>
    Effect.gen(function*() {
      const text = withKey("\"${env:OPENAI_API_KEY\"")
      expect(at(Policy.check(text, "p.yaml", { env: { OPENAI_API_KEY: "sk" } }))).toEqual([
        "error SY106@4:13 unterminated interpolation: `${` without a closing `}`"
      ])
      const error = yield* Effect.flip(Policy.compile(text, "p.yaml", { adapters, env: { OPENAI_API_KEY: "sk" } }))
      expect(codesOf(error.diagnostics)).toEqual(["SY106@4:13"])
      // `$${` is still a literal `${`, closed or not.
      expect(Policy.check(withKey("\"$${env:X\""), "p.yaml", { env: {} })).toEqual([])
    }))

  it("a default that holds another interpolation is an error, not a value with a stray `}`", () => {
    const text = withKey("\"${env:A:-${env:B}}\"")
    expect(codesOf(Policy.check(text, "p.yaml", { env: { A: "a", B: "b" } }))).toEqual(["SY106@4:13"])
  })

  it("`:-` takes the default when the variable is set but empty, as the shell does", () => {
    const text = yaml(...base, "    retry: { maxAttempts: \"${env:RETRIES:-3}\" }")
    const analysis = Policy.analyze(text, "p.yaml", { env: { RETRIES: "" } })
    expect(at(analysis.diagnostics)).toEqual([])
    expect(analysis.plan!.routes[0]!.retry.maxAttempts).toBe(3)
    // Without a default, an empty variable stays empty (an empty API key means "no key").
    const keyless = Policy.analyze(withKey("${env:KEY}"), "p.yaml", { env: { KEY: "" } })
    expect(keyless.diagnostics).toEqual([])
    expect(keyless.plan!.providers[0]!.config.apiKey).toBeUndefined()
  })

  it("an interpolated number may be written as YAML writes numbers (`.5`, `1e1`)", () => {
    const text = yaml(
      ...base,
      "    retry: { maxAttempts: \"${env:RETRIES:-1e1}\" }",
      "retryBudget: { ratio: \"${env:RATIO:-.5}\" }"
    )
    const analysis = Policy.analyze(text, "p.yaml", { env: {} })
    expect(at(analysis.diagnostics)).toEqual([])
    expect(analysis.plan!.routes[0]!.retry.maxAttempts).toBe(10)
    expect(analysis.plan!.retryBudget.ratio).toBe(0.5)
  })
})

describe("overlays and repairs", () => {
  it("`environments` inside an overlay is an error, not silently dropped", () => {
    const text = yaml(...base, "environments:", "  staging:", "    environments: { prod: {} }")
    expect(at(Policy.check(text, "p.yaml"))).toEqual([
      "error SY102@13:5 unknown key `environments`: an environment overlay cannot define environments of its own (environment `staging`)"
    ])
  })

  it("a rule whose only condition is wrong is not taken for a catch-all", () => {
    const text = yaml(
      ...base,
      "rules:",
      "  - when: { tags: interactive }",
      "    route: default",
      "  - when: { tags: [batch] }",
      "    route: default"
    )
    expect(codesOf(Policy.check(text, "p.yaml"))).toEqual(["SY103@12:19"])
  })

  it("a route named only by a removed rule is not called unreachable, and later rules keep their numbers", () => {
    const text = yaml(
      ...base,
      "  vip:",
      "    targets: [p/m]",
      "rules:",
      "  - route: [vip]",
      "  - route: nowhere"
    )
    expect(at(Policy.check(text, "p.yaml"))).toEqual([
      "error SY103@14:12 Expected string, actual [\"vip\"]",
      "error SY204@15:12 rule `#2` routes to undefined route `nowhere`"
    ])
  })
})
