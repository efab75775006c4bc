import type { Document, Node, ParsedNode } from "yaml"
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } from "yaml"

/** A span of the source, as offsets. */
export interface Span {
  readonly start: number
  readonly end: number
}

/** A YAML value with the span of its token, the form in which overlays and interpolation work. */
export type LNode =
  | { readonly _tag: "Map"; readonly span: Span; readonly entries: ReadonlyArray<Entry> }
  | { readonly _tag: "Seq"; readonly span: Span; readonly items: ReadonlyArray<LNode> }
  | { readonly _tag: "Scalar"; readonly span: Span; readonly value: unknown }

/** A key and its value in a map. */
export interface Entry {
  readonly key: string
  readonly keySpan: Span
  readonly value: LNode
}

/** A problem found while reading the YAML, before any schema is involved. */
export interface RawIssue {
  readonly code: string
  readonly span: Span
  readonly message: string
  readonly severity?: "error" | "warning"
  readonly hint?: string | undefined
}

/** Path of a value in the document: keys and indices. */
export type Path = ReadonlyArray<string | number>

/** The text of a file, with what is needed to turn offsets into lines and columns. */
export interface SourceFile {
  readonly file: string
  readonly text: string
  readonly lineCounter: LineCounter
}

const spanOf = (node: Node | null | undefined, fallback: Span): Span => {
  const range = node?.range
  return range ? { start: range[0], end: range[1] } : fallback
}

/** Parses YAML text into a located tree. Duplicate keys and syntax errors are issues, never throws. */
export const parse = (text: string, file: string): {
  readonly source: SourceFile
  readonly root: LNode | undefined
  readonly issues: ReadonlyArray<RawIssue>
} => {
  // A byte order mark (editors on Windows write one) is not part of the first line: parsed with it,
  // every column of line 1 would be one too far right. `Diagnostic.format` drops it as well.
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text
  const lineCounter = new LineCounter()
  const issues: Array<RawIssue> = []
  const doc = parseDocument(body, { lineCounter, uniqueKeys: false, prettyErrors: false, merge: true })
  for (const error of doc.errors) {
    const [start, end] = error.pos
    issues.push({
      code: "SY100",
      span: { start, end: Math.max(end, start + 1) },
      // The library's own wording names its API (`YAML.parseAllDocuments()`): say what to do instead.
      message: error.code === "MULTIPLE_DOCS"
        ? "a policy is a single YAML document, but a `---` line starts another one here"
        : error.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "")
    })
  }
  // The library only warns about a tag it does not know (`!secret key`) and keeps the text as a plain
  // string, which would then be used as is (as an API key, say): the policy language has no custom
  // tags, so that is an error. Its other warnings are reported as warnings.
  for (const warning of doc.warnings) {
    const [start, end] = warning.pos
    const tag = warning.code === "TAG_RESOLVE_FAILED" || warning.code === "BAD_COLLECTION_TYPE"
    issues.push({
      code: "SY100",
      span: { start, end: Math.max(end, start + 1) },
      message: warning.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, ""),
      severity: tag ? "error" : "warning",
      hint: tag ? "only YAML's standard tags (such as `!!str`) are known; write the value without this tag" : undefined
    })
  }
  const source: SourceFile = { file, text: body, lineCounter }
  if (doc.errors.length > 0) return { source, root: undefined, issues }
  // A document that is only `---` (or a directive and `---`) has an empty scalar as its contents: it
  // is as empty as an empty file, not a policy that is a scalar.
  const contents = doc.contents
  const empty = contents === null || isScalar(contents) && contents.value === null && contents.source === ""
  const root = empty ? undefined : convert(source, doc, contents, issues, { start: 0, end: 0 }, 0)
  return { source, root, issues }
}

/** Whether a key is YAML's merge key `<<` (a plain `<<`; a quoted `"<<"` is an ordinary key). */
const isMergeKey = (key: unknown): boolean => isScalar(key) && typeof key.value === "symbol"

/**
 * The text of a key as written: `1.10` stays `1.10` (its value would be the number 1.1, and `0x1F`
 * would become `31`), so that a model named `1.10` is found by the target `provider/1.10`. Undefined
 * for a key that is not a scalar (a list or a mapping), which a policy never uses.
 */
const keyText = (doc: Document, node: unknown, depth: number): string | undefined => {
  if (node === null || node === undefined) return ""
  if (isAlias(node)) return depth < 50 ? keyText(doc, node.resolve(doc), depth + 1) : undefined
  if (!isScalar(node)) return undefined
  return typeof node.source === "string" ? node.source : String(node.value)
}

const convert = (
  source: SourceFile,
  doc: Document,
  node: ParsedNode | Node,
  issues: Array<RawIssue>,
  fallback: Span,
  depth: number
): LNode => {
  const span = spanOf(node, fallback)
  if (isAlias(node)) {
    const target = depth < 50 ? node.resolve(doc) : undefined
    return target ? convert(source, doc, target, issues, span, depth + 1) : { _tag: "Scalar", span, value: null }
  }
  if (isMap(node)) {
    const entries: Array<Entry> = []
    const seen = new Map<string, Span>()
    // Keys written in this map win over merged ones, wherever the merge key `<<` stands (YAML's rule).
    const explicit = new Set<string>()
    for (const pair of node.items) {
      if (!isPair(pair) || isMergeKey(pair.key)) continue
      const key = keyText(doc, pair.key, depth)
      if (key !== undefined) explicit.add(key)
    }
    for (const pair of node.items) {
      if (!isPair(pair)) continue
      const keyNode = pair.key as Node | null
      const keySpan = spanOf(keyNode, span)
      if (isMergeKey(keyNode)) {
        // `<<: *base` or `<<: [*a, *b]`: the entries of those maps that this map does not set itself,
        // the earlier maps first. They keep their own positions (in the anchored node).
        for (const merged of mergeSources(source, doc, pair.value as Node | null, issues, keySpan, depth)) {
          if (explicit.has(merged.key) || entries.some((e) => e.key === merged.key)) continue
          entries.push(merged)
        }
        continue
      }
      const key = keyText(doc, keyNode, depth)
      if (key === undefined) {
        // A list or a mapping as a key would otherwise become a name like `["a","b"]`.
        issues.push({
          code: "SY103",
          span: keySpan,
          message: "a key must be a plain value (a name), not a list or a mapping"
        })
        continue
      }
      if (key === "__proto__") {
        // Decoded into a JavaScript object, this key would set the object's prototype instead of
        // adding an entry: a provider or route of that name would vanish without a word.
        issues.push({ code: "SY103", span: keySpan, message: "`__proto__` cannot be used as a name" })
        continue
      }
      const value = pair.value === null
        ? { _tag: "Scalar" as const, span: { start: keySpan.end, end: keySpan.end }, value: null }
        : convert(source, doc, pair.value as Node, issues, keySpan, depth + 1)
      const first = seen.get(key)
      if (first !== undefined) {
        const line = source.lineCounter.linePos(first.start)
        issues.push({
          code: "SY101",
          span: keySpan,
          message: `duplicate key \`${key}\`; it is already defined at line ${line.line}`,
          hint: "remove one of them: YAML keys must be unique"
        })
        const index = entries.findIndex((e) => e.key === key)
        entries.splice(index, 1)
      }
      seen.set(key, keySpan)
      entries.push({ key, keySpan, value })
    }
    return { _tag: "Map", span, entries }
  }
  if (isSeq(node)) {
    return {
      _tag: "Seq",
      span,
      items: node.items.map((item) => convert(source, doc, item as Node, issues, span, depth + 1))
    }
  }
  if (isScalar(node)) return { _tag: "Scalar", span, value: node.value }
  return { _tag: "Scalar", span, value: null }
}

/** The entries a merge key's value brings: a map, an alias of one, or a list of those. */
const mergeSources = (
  source: SourceFile,
  doc: Document,
  value: Node | null,
  issues: Array<RawIssue>,
  keySpan: Span,
  depth: number
): Array<Entry> => {
  const resolved = isAlias(value) && depth < 50 ? value.resolve(doc) : value
  const items: ReadonlyArray<unknown> = isSeq(resolved) ? resolved.items : [value]
  const out: Array<Entry> = []
  for (const item of items) {
    const node = convert(source, doc, item as Node, issues, spanOf(item as Node, keySpan), depth + 1)
    if (node._tag !== "Map") {
      issues.push({
        code: "SY103",
        span: node.span,
        message: "the merge key `<<` takes a mapping, an alias of one (`*name`) or a list of them"
      })
      continue
    }
    for (const entry of node.entries) if (!out.some((e) => e.key === entry.key)) out.push(entry)
  }
  return out
}

/** The plain JavaScript value of a located tree. */
export const toValue = (node: LNode): unknown => {
  switch (node._tag) {
    case "Map":
      return Object.fromEntries(node.entries.map((e) => [e.key, toValue(e.value)]))
    case "Seq":
      return node.items.map(toValue)
    case "Scalar":
      return node.value
  }
}

/** The node at a path, if any. */
export const at = (root: LNode | undefined, path: Path): LNode | undefined => {
  let node = root
  for (const segment of path) {
    if (node === undefined) return undefined
    if (node._tag === "Map") node = node.entries.find((e) => e.key === String(segment))?.value
    else if (node._tag === "Seq" && typeof segment === "number") node = node.items[segment]
    else return undefined
  }
  return node
}

/**
 * The span to report for a path: the key itself (`"key"`) or its value (`"value"`), of the deepest
 * node of the path that exists.
 */
export const locate = (root: LNode | undefined, path: Path, prefer: "key" | "value"): Span => {
  let node = root
  let keySpan: Span | undefined
  for (const segment of path) {
    if (node === undefined) break
    if (node._tag === "Map") {
      const entry = node.entries.find((e) => e.key === String(segment))
      if (entry === undefined) break
      node = entry.value
      keySpan = entry.keySpan
    } else if (node._tag === "Seq" && typeof segment === "number" && node.items[segment] !== undefined) {
      node = node.items[segment]
      keySpan = undefined
    } else break
  }
  if (node === undefined) return { start: 0, end: 1 }
  if (prefer === "key" && keySpan !== undefined) return keySpan
  return node.span
}

/** Removes the value at a path (a map entry or a sequence item), returning a new tree. */
export const remove = (root: LNode, path: Path): LNode => {
  if (path.length === 0) return root
  const [head, ...rest] = path
  if (root._tag === "Map") {
    const entries = rest.length === 0
      ? root.entries.filter((e) => e.key !== String(head))
      : root.entries.map((e) => e.key === String(head) ? { ...e, value: remove(e.value, rest) } : e)
    return { ...root, entries }
  }
  if (root._tag === "Seq" && typeof head === "number") {
    const items = rest.length === 0
      ? root.items.filter((_, i) => i !== head)
      : root.items.map((item, i) => i === head ? remove(item, rest) : item)
    return { ...root, items }
  }
  return root
}

/** Replaces the value at a path, returning a new tree (the path must exist). */
export const replace = (root: LNode, path: Path, value: LNode): LNode => {
  if (path.length === 0) return value
  const [head, ...rest] = path
  if (root._tag === "Map") {
    return {
      ...root,
      entries: root.entries.map((e) => e.key === String(head) ? { ...e, value: replace(e.value, rest, value) } : e)
    }
  }
  if (root._tag === "Seq" && typeof head === "number") {
    return { ...root, items: root.items.map((item, i) => i === head ? replace(item, rest, value) : item) }
  }
  return root
}

/** Merges an overlay over a base: maps merge by key (recursively), anything else is replaced. */
export const merge = (base: LNode, overlay: LNode): LNode => {
  if (base._tag !== "Map" || overlay._tag !== "Map") return overlay
  const entries = [...base.entries]
  for (const entry of overlay.entries) {
    const index = entries.findIndex((e) => e.key === entry.key)
    if (index === -1) entries.push(entry)
    else entries[index] = { key: entry.key, keySpan: entry.keySpan, value: merge(entries[index]!.value, entry.value) }
  }
  return { ...base, entries }
}

/** Line and column (1-based) of both ends of a span. */
export const position = (source: SourceFile, span: Span) => {
  const start = source.lineCounter.linePos(span.start)
  const end = source.lineCounter.linePos(Math.max(span.end, span.start))
  return { line: start.line, column: start.col, endLine: end.line, endColumn: end.col }
}
