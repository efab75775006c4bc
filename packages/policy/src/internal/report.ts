import type { Diagnostic, Severity } from "../Diagnostic.js"
import type { SourceFile, Span } from "./source.js"
import { position } from "./source.js"

/**
 * Collects the diagnostics of one file. A node used twice through an alias (`*name`) is checked at
 * each use, but it is one place in the file with one problem: it is reported once.
 */
export const collector = (file: string, source: SourceFile) => {
  const diagnostics: Array<Diagnostic> = []
  const reported = new Set<string>()
  const report = (span: Span, code: string, severity: Severity, message: string, hint?: string) => {
    const key = `${code}:${span.start}:${span.end}:${message}`
    if (reported.has(key)) return
    reported.add(key)
    diagnostics.push({ file, ...position(source, span), severity, code, message, hint })
  }
  return { diagnostics, report }
}
