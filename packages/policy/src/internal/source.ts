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
  const lineCounter = new LineCounter()
  const issues: Array<RawIssue> = []
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: false, merge: true })
  for (const error of doc.errors) {
    const [start, end] = error.pos
    issues.push({
      code: "SY100",
      span: { start, end: Math.max(end, start + 1) },
      message: error.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "")
    })
  }
  const source: SourceFile = { file, text, lineCounter }
  if (doc.errors.length > 0) return { source, root: undefined, issues }
  const root = doc.contents === null ? undefined : convert(source, doc, doc.contents, issues, { start: 0, end: 0 }, 0)
  return { source, root, issues }
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
    for (const pair of node.items) {
      if (!isPair(pair)) continue
      const keyNode = pair.key as Node | null
      const keySpan = spanOf(keyNode, span)
      const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode ?? "")
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
