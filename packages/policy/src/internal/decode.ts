import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as AST from "effect/SchemaAST"
import { Duration } from "../Document.js"
import type { LNode, Path, Span } from "./source.js"
import * as Source from "./source.js"
import { didYouMean } from "./suggest.js"

/** One issue of a schema decode, flattened, with the path of the value it concerns. */
export interface SchemaIssue {
  readonly path: Path
  readonly kind: "unexpected" | "missing" | "type" | "range"
  readonly message: string
  /** For a value that must be one of several strings: those strings. */
  readonly literals?: ReadonlyArray<string> | undefined
  readonly actual: unknown
}

const messageOf = (issue: ParseResult.ParseIssue): string =>
  ParseResult.ArrayFormatter.formatIssueSync(issue)[0]?.message ?? "invalid value"

const samePath = (a: Path, b: Path) => a.length === b.length && a.every((s, i) => s === b[i])

const literalsOf = (ast: AST.AST): Array<string> =>
  AST.isUnion(ast)
    ? ast.types.flatMap(literalsOf)
    : AST.isLiteral(ast) && typeof ast.literal === "string"
    ? [ast.literal]
    : []

const describe = (actual: unknown): string => {
  if (typeof actual !== "object" || actual === null) {
    return typeof actual === "string" ? JSON.stringify(actual) : String(actual)
  }
  const json = JSON.stringify(actual)
  return json.length > 60 ? `${json.slice(0, 57)}...` : json
}

const walk = (issue: ParseResult.ParseIssue, path: Path, out: Array<SchemaIssue>): void => {
  switch (issue._tag) {
    case "Pointer": {
      const segments = Array.isArray(issue.path) ? issue.path : [issue.path]
      walk(issue.issue, [...path, ...(segments as Array<string | number>)], out)
      return
    }
    case "Composite": {
      const all = Array.isArray(issue.issues) ? issue.issues : [issue.issues as ParseResult.ParseIssue]
      // An optional field is a union with `undefined`: that member adds nothing to the real complaint.
      const issues = AST.isUnion(issue.ast) ?
        all.filter((i: ParseResult.ParseIssue) => !(i._tag === "Type" && AST.isUndefinedKeyword(i.ast))) :
        all
      if (AST.isUnion(issue.ast) && issues.length === 1 && issues.length < all.length) {
        walk(issues[0]!, path, out)
        return
      }
      if (AST.isUnion(issue.ast)) {
        const inner: Array<SchemaIssue> = []
        for (const i of issues) walk(i, path, inner)
        const shallow = inner.filter((i) => i.kind === "type" && samePath(i.path, path))
        if (shallow.length === inner.length) {
          const literals = literalsOf(issue.ast)
          out.push({
            path,
            kind: "type",
            message: literals.length > 0
              ? `Expected one of ${literals.map((l) => JSON.stringify(l)).join(", ")}, actual ${describe(issue.actual)}`
              : messageOf(new ParseResult.Type(issue.ast, issue.actual)),
            literals,
            actual: issue.actual
          })
        } else out.push(...inner.filter((i) => !shallow.includes(i)))
        return
      }
      for (const i of issues) walk(i, path, out)
      return
    }
    case "Refinement":
      if (issue.kind === "From") walk(issue.issue, path, out)
      else out.push({ path, kind: "range", message: messageOf(issue), actual: issue.actual })
      return
    case "Transformation":
      if (issue.kind === "Encoded" && issue.ast === Duration.ast) {
        out.push({
          path,
          kind: "type",
          message: `Expected a duration like "250ms", "2s", "1m", "1h" or a number of milliseconds, actual ${
            describe(issue.actual)
          }`,
          actual: issue.actual
        })
      } else walk(issue.issue, path, out)
      return
    case "Missing":
      out.push({ path, kind: "missing", message: "is missing", actual: undefined })
      return
    case "Unexpected":
      out.push({ path, kind: "unexpected", message: "is unexpected", actual: issue.actual })
      return
    case "Type":
    case "Forbidden": {
      const message = messageOf(issue)
      // A whole structure's type spelled out (a list of messages, say) says less than its kind, and
      // a struct with transformations reads "Struct (Encoded side)".
      const structural = resolve(issue.ast).every((ast) => AST.isTypeLiteral(ast) || AST.isTupleType(ast))
      const short = issue._tag === "Type" && (structural || message.length > 120)
        ? `Expected ${kindsOf(issue.ast)}, actual ${describe(issue.actual)}`
        : message
      out.push({ path, kind: "type", message: short, actual: issue.actual })
      return
    }
  }
}

const kindOf = (ast: AST.AST): string => {
  switch (ast._tag) {
    case "TupleType":
      return "a list"
    case "TypeLiteral":
      return "a mapping"
    case "StringKeyword":
    case "TemplateLiteral":
      return "a string"
    case "NumberKeyword":
      return "a number"
    case "BooleanKeyword":
      return "a boolean"
    case "Literal":
      return JSON.stringify(ast.literal)
    default:
      return "a value of another type"
  }
}

/** The kinds of value a schema accepts, in words: `a list`, `a string or a mapping`. */
const kindsOf = (ast: AST.AST): string => [...new Set(resolve(ast).map(kindOf))].join(" or ")

/** Decodes with every issue collected; unknown keys are issues. */
export const decode = <A, I>(
  schema: Schema.Schema<A, I, never>,
  value: unknown
): Either.Either<A, ReadonlyArray<SchemaIssue>> => {
  const result = Schema.decodeUnknownEither(schema, { errors: "all", onExcessProperty: "error" })(value)
  if (Either.isRight(result)) return Either.right(result.right)
  const out: Array<SchemaIssue> = []
  walk(result.left.issue, [], out)
  return Either.left(out)
}

const resolve = (ast: AST.AST, depth = 0): Array<AST.AST> => {
  if (depth > 20) return []
  switch (ast._tag) {
    case "Refinement":
      return resolve(ast.from, depth + 1)
    case "Transformation":
      return resolve(ast.from, depth + 1)
    case "Suspend":
      return resolve(ast.f(), depth + 1)
    case "Union":
      return ast.types.flatMap((t) => resolve(t, depth + 1))
    default:
      return [ast]
  }
}

const child = (ast: AST.AST, segment: string | number): Array<AST.AST> =>
  resolve(ast).flatMap((node): Array<AST.AST> => {
    if (AST.isTypeLiteral(node)) {
      const property = node.propertySignatures.find((p) => p.name === segment)
      if (property !== undefined) return [property.type]
      return node.indexSignatures.map((s) => s.type)
    }
    if (AST.isTupleType(node) && typeof segment === "number") {
      const element = node.elements[segment]
      if (element !== undefined) return [element.type]
      return node.rest.map((r) => r.type)
    }
    return []
  })

const nodesAt = (ast: AST.AST, path: Path): Array<AST.AST> =>
  path.reduce<Array<AST.AST>>((nodes, segment) => nodes.flatMap((n) => child(n, segment)), [ast])

/** The keys a struct at `path` admits (empty for records and non-structs). */
export const keysAt = (ast: AST.AST, path: Path): Array<string> =>
  nodesAt(ast, path).flatMap(resolve).flatMap((node) =>
    AST.isTypeLiteral(node) ? node.propertySignatures.map((p) => String(p.name)) : []
  )

/** The string literals a value at `path` may be. */
export const literalsAt = (ast: AST.AST, path: Path): Array<string> => nodesAt(ast, path).flatMap(literalsOf)

/** Whether `path` is `prefix` or lies under it. */
export const startsWith = (path: Path, prefix: Path): boolean =>
  prefix.length <= path.length && prefix.every((segment, i) => segment === path[i])

const comparePaths = (a: Path, b: Path): number => {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!
    const y = b[i]!
    if (x === y) continue
    if (typeof x === "number" && typeof y === "number") return y - x
    return String(y) < String(x) ? -1 : 1
  }
  return b.length - a.length
}

/** What {@link decodeRepairing} found. */
export interface Repaired<A> {
  /** The issues of the file as written (empty when it decoded at once). */
  readonly issues: ReadonlyArray<SchemaIssue>
  /** The value decoded from the repaired tree, if the repairs made it decode. */
  readonly value: A | undefined
  /** The tree with the wrong parts removed. */
  readonly tree: LNode
  /** The paths that were removed. */
  readonly removed: ReadonlyArray<Path>
}

/**
 * Decodes a located tree; when it fails, removes what is wrong and decodes again (a few rounds), so
 * that semantic checks can still run on the rest of the file. Later siblings and deeper paths are
 * removed first, so that sequence indices stay valid.
 */
export const decodeRepairing = <A, I>(schema: Schema.Schema<A, I, never>, root: LNode): Repaired<A> => {
  let tree = root
  let issues: ReadonlyArray<SchemaIssue> = []
  const removed: Array<Path> = []
  for (let round = 0; round < 8; round++) {
    const result = decode(schema, Source.toValue(tree))
    if (Either.isRight(result)) return { issues, value: result.right, tree, removed }
    if (round === 0) issues = result.left
    const paths = result.left
      .map((issue) => issue.kind === "missing" ? issue.path.slice(0, -1) : issue.path)
      .filter((path) => path.length > 0)
      .sort(comparePaths)
    if (paths.length === 0) break
    for (const path of paths) {
      if (removed.some((r) => startsWith(path, r))) continue
      tree = Source.remove(tree, path)
      removed.push(path)
    }
  }
  return { issues, value: undefined, tree, removed }
}

/** A schema issue as a diagnostic to report: where, which code, what. */
export interface Located {
  readonly span: Span
  readonly code: "SY102" | "SY103" | "SY104" | "SY307"
  readonly message: string
  readonly hint?: string | undefined
}

/**
 * Places a schema issue in the source: an unknown key at the key (with the valid keys), a missing key
 * at its parent, a wrong value or one out of range at the value. `prefix` is where the decoded value
 * sits in `root` (a plugin's section decodes on its own).
 */
export const locateIssue = (issue: SchemaIssue, ast: AST.AST, root: LNode | undefined, prefix: Path): Located => {
  const path = [...prefix, ...issue.path]
  const last = issue.path[issue.path.length - 1]
  switch (issue.kind) {
    case "unexpected": {
      const keys = keysAt(ast, issue.path.slice(0, -1))
      return {
        span: Source.locate(root, path, "key"),
        code: "SY102",
        message: `unknown key \`${String(last)}\`${didYouMean(String(last), keys)}`,
        hint: keys.length > 0 ? `valid keys here: ${keys.join(", ")}` : undefined
      }
    }
    case "missing": {
      const parent = path.slice(0, -1)
      return {
        span: parent.length > 0 ? Source.locate(root, parent, "key") : { start: 0, end: 0 },
        code: "SY104",
        message: `missing required key \`${String(last)}\`${parent.length > 0 ? ` in \`${parent.join(".")}\`` : ""}`
      }
    }
    case "type": {
      const suggestion = typeof issue.actual === "string" && issue.literals !== undefined
        ? didYouMean(issue.actual, issue.literals)
        : ""
      return { span: Source.locate(root, path, "value"), code: "SY103", message: `${issue.message}${suggestion}` }
    }
    case "range":
      return { span: Source.locate(root, path, "value"), code: "SY307", message: issue.message }
  }
}
