import { describe, expect, it } from "@effect/vitest"
import { Diagnostic, Validate } from "@switchyard/policy"
import * as Schema from "effect/Schema"

// A small file format of another tool: the policy language's diagnostics must work for it unchanged.
const Job = Schema.Struct({
  name: Schema.String,
  retries: Schema.optional(Schema.Number.pipe(Schema.between(0, 10))),
  steps: Schema.Array(Schema.Struct({ run: Schema.String, after: Schema.optional(Schema.String) }))
})

/** `after` must name an earlier step: what the schema cannot say. */
const semantic = (job: typeof Job.Type): Array<Validate.Finding> =>
  job.steps.flatMap((step, i) =>
    step.after === undefined || job.steps.slice(0, i).some((s) => s.run === step.after) ? [] : [{
      path: ["steps", i, "after"],
      code: "SY201" as const,
      message: `no earlier step \`${step.after}\``
    }]
  )

const lines = (text: string) => Validate.check(Job, text, "job.yaml", semantic).diagnostics.map(Diagnostic.formatLine)

describe("Validate.check", () => {
  it("decodes a good file, with no diagnostics", () => {
    const checked = Validate.check(
      Job,
      "name: build\nsteps:\n  - run: compile\n  - { run: test, after: compile }\n",
      "job.yaml"
    )
    expect(checked.diagnostics).toEqual([])
    expect(checked.value).toEqual({ name: "build", steps: [{ run: "compile" }, { run: "test", after: "compile" }] })
  })

  it("reports unknown, missing, mistyped and out-of-range values at their tokens, with codes", () => {
    expect(lines("nme: build\nretries: 11\nsteps:\n  - { run: 3 }\n")).toEqual([
      "job.yaml:1:1: error SY102: unknown key `nme`; did you mean `name`?",
      "job.yaml:1:1: error SY104: missing required key `name`",
      "job.yaml:2:10: error SY307: Expected a number between 0 and 10, actual 11",
      "job.yaml:4:12: error SY103: Expected string, actual 3"
    ])
  })

  it("still runs the semantic checks on the rest of a file with schema errors", () => {
    const text = "name: build\nsteps:\n  - { run: compile, colour: red }\n  - { run: test, after: lint }\n"
    const checked = Validate.check(Job, text, "job.yaml", semantic)
    expect(checked.value).toBeUndefined()
    expect(checked.diagnostics.map(Diagnostic.formatLine)).toEqual([
      "job.yaml:3:21: error SY102: unknown key `colour`",
      "job.yaml:4:25: error SY201: no earlier step `lint`"
    ])
    expect(Validate.render(checked.diagnostics, text).split("\n").slice(4, 7)).toEqual([
      "job.yaml:4:25: error SY201: no earlier step `lint`",
      "4 |   - { run: test, after: lint }",
      "  |                         ^^^^"
    ])
  })

  it("reads an empty file as an empty mapping, and names the kind a structure must be", () => {
    expect(lines("")).toEqual([
      "job.yaml:1:1: error SY104: missing required key `name`",
      "job.yaml:1:1: error SY104: missing required key `steps`"
    ])
    expect(lines("- build\n")).toEqual(["job.yaml:1:1: error SY103: Expected a mapping, actual [\"build\"]"])
    expect(lines("name: build\nsteps: { run: x }\n")).toEqual([
      "job.yaml:2:8: error SY103: Expected a list, actual {\"run\":\"x\"}"
    ])
  })

  it("reports syntax errors and duplicate keys as a policy's check does", () => {
    expect(lines("name: [build\n")[0]).toMatch(/^job\.yaml:\d+:\d+: error SY100: /)
    expect(lines("name: a\nname: b\nsteps: []\n")).toEqual([
      "job.yaml:2:1: error SY101: duplicate key `name`; it is already defined at line 1"
    ])
  })
})
