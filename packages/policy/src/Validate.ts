/**
 * Checks any YAML file against an Effect Schema with the diagnostics of the policy language: syntax
 * errors, duplicate keys, unknown keys (with a suggestion and the valid keys), missing keys, wrong
 * values and values out of range, each with its line, column, code and caret. Other Switchyard files
 * (the simulator's scenarios) use it so that every file a user writes is checked the same way.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import type * as Schema from "effect/Schema"
import type { Code, Diagnostic, Severity } from "./Diagnostic.js"
import { format, hasErrors, sort } from "./Diagnostic.js"
import * as Decode from "./internal/decode.js"
import type { Span } from "./internal/source.js"
import * as Source from "./internal/source.js"
import * as Suggest from "./internal/suggest.js"

/**
 * A problem a check found in a decoded value, by path (keys and indices); `at` says whether to point at
 * the key or at its value (the value by default).
 *
 * @since 0.1.0
 * @category models
 */
export interface Finding {
  readonly path: ReadonlyArray<string | number>
  readonly code: Code
  readonly message: string
  readonly severity?: Severity | undefined
  readonly hint?: string | undefined
  readonly at?: "key" | "value" | undefined
}

/**
 * What {@link check} found: the diagnostics sorted by position, and the decoded value when the file
 * has no error.
 *
 * @since 0.1.0
 * @category models
 */
export interface Checked<A> {
  readonly diagnostics: ReadonlyArray<Diagnostic>
  readonly value: A | undefined
}

/**
 * Parses `text` (named `file` in diagnostics), decodes it with `schema` (unknown keys are errors,
 * every issue is reported) and, when it decodes, runs `semantic` for what the schema cannot say.
 *
 * @since 0.1.0
 * @category checking
 */
export const check = <A, I>(
  schema: Schema.Schema<A, I, never>,
  text: string,
  file: string,
  semantic: (value: A) => ReadonlyArray<Finding> = () => []
): Checked<A> => {
  const parsed = Source.parse(text, file)
  const diagnostics: Array<Diagnostic> = []
  const report = (span: Span, code: string, severity: Severity, message: string, hint?: string) =>
    diagnostics.push({ file, ...Source.position(parsed.source, span), severity, code, message, hint })
  for (const issue of parsed.issues) {
    report(issue.span, issue.code, issue.severity ?? "error", issue.message, issue.hint)
  }
  const done = (value: A | undefined): Checked<A> => {
    const sorted = sort(diagnostics)
    return { diagnostics: sorted, value: hasErrors(sorted) ? undefined : value }
  }
  if (parsed.issues.some((issue) => issue.code === "SY100")) return done(undefined)
  // An empty file is an empty mapping: its missing keys say more than "actual undefined".
  const root = parsed.root ?? emptyMap
  const first = Decode.decode(schema, Source.toValue(root))
  if (Either.isRight(first)) {
    reportFindings(semantic(first.right), root, [], report)
    return done(first.right)
  }
  for (const issue of first.left) {
    const located = Decode.locateIssue(issue, schema.ast, root, [])
    report(located.span, located.code, "error", located.message, located.hint)
  }
  // As a policy's check does: remove what is wrong and decode again, so that the semantic checks still
  // report the rest of the file in the same run (never about what was removed).
  let tree = root
  const removed: Array<Source.Path> = []
  for (let round = 0; round < 8; round++) {
    const result = Decode.decode(schema, Source.toValue(tree))
    if (Either.isRight(result)) {
      reportFindings(semantic(result.right), root, removed, report)
      break
    }
    const paths = result.left
      .map((issue) => issue.kind === "missing" ? issue.path.slice(0, -1) : issue.path)
      .filter((path) => path.length > 0 && !removed.some((r) => startsWith(path, r)))
    if (paths.length === 0) break
    // Deepest first, and later sequence items before earlier ones, so that indices stay valid.
    for (const path of [...paths].sort((a, b) => b.length - a.length || compareLast(b, a))) {
      tree = Source.remove(tree, path)
      removed.push(path)
    }
  }
  return done(undefined)
}

const emptyMap: Source.LNode = { _tag: "Map", span: { start: 0, end: 0 }, entries: [] }

const startsWith = (path: Source.Path, prefix: Source.Path) =>
  prefix.length <= path.length && prefix.every((segment, i) => segment === path[i])

const compareLast = (a: Source.Path, b: Source.Path) => {
  const x = a[a.length - 1]
  const y = b[b.length - 1]
  return typeof x === "number" && typeof y === "number" ? x - y : 0
}

const reportFindings = (
  findings: ReadonlyArray<Finding>,
  root: Source.LNode | undefined,
  removed: ReadonlyArray<Source.Path>,
  report: (span: Span, code: string, severity: Severity, message: string, hint?: string) => void
) => {
  for (const finding of findings) {
    if (removed.some((path) => startsWith(finding.path, path) || startsWith(path, finding.path))) continue
    report(
      Source.locate(root, finding.path, finding.at ?? "value"),
      finding.code,
      finding.severity ?? "error",
      finding.message,
      finding.hint
    )
  }
}

/**
 * Renders diagnostics as `check` prints them: each with its source line and carets, one after another.
 *
 * @since 0.1.0
 * @category rendering
 */
export const render = (diagnostics: ReadonlyArray<Diagnostic>, text: string | undefined): string =>
  diagnostics.map((d) => format(d, text)).join("\n")

/**
 * "; did you mean `x`?" when `word` is a plausible typo of one of `candidates`, else the empty string:
 * the suggestion the policy's diagnostics make.
 *
 * @since 0.1.0
 * @category rendering
 */
export const didYouMean = (word: string, candidates: Iterable<string>): string => Suggest.didYouMean(word, candidates)
