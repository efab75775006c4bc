/**
 * Copies every ```ts block of the READMEs (the root one, and those of packages/, examples/ and
 * benchmarks/) into examples/readme/ as a module of its own, so that `pnpm check` type-checks them with
 * the rest of the repository: a README example that no longer compiles fails CI like any code.
 *
 *   npx tsx scripts/readme-examples.ts      (run by `pnpm check`, before tsc)
 *
 * The output is generated (git ignores it): edit the README, not the copy. Each copy is named after
 * its package and the block's position (`core-1.ts` is the first block of packages/core/README.md) and
 * starts with the line of the README it came from. `examples/readme.test.ts` runs the copies that need
 * no API key and checks the READMEs' YAML blocks with `blocks(text, "yaml")`.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

/** The repository's root. */
export const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))

/** Where the copies go. */
export const out = path.join(root, "examples", "readme")

/** The READMEs, relative to the root: the root one, then those of packages/, examples/, benchmarks/. */
export const readmes = (): Array<string> => {
  const found = ["README.md"]
  for (const dir of ["packages", "examples", "benchmarks"]) {
    for (const entry of fs.readdirSync(path.join(root, dir)).sort()) {
      const file = path.join(dir, entry, "README.md")
      if (fs.existsSync(path.join(root, file))) found.push(file)
    }
  }
  return found
}

/** A fenced block: the 1-based line of its opening fence and its text, list indentation removed. */
export interface Block {
  readonly line: number
  readonly code: string
}

/** The blocks fenced as ```<language> in a markdown text. */
export const blocks = (text: string, language: string): Array<Block> => {
  const found: Array<Block> = []
  const lines = text.split("\n")
  for (let i = 0; i < lines.length; i++) {
    const open = /^( *)```(\w+)\s*$/.exec(lines[i])
    if (open === null) continue
    const indent = open[1]
    let j = i + 1
    while (j < lines.length && lines[j] !== `${indent}\`\`\``) j++
    if (j === lines.length) throw new Error(`unclosed \`\`\`${open[2]} block at line ${i + 1}`)
    if (open[2] === language) {
      const body = lines.slice(i + 1, j).map((line) => line.startsWith(indent) ? line.slice(indent.length) : line)
      found.push({ line: i + 1, code: body.join("\n") })
    }
    i = j
  }
  return found
}

/** The name of a README's copies: its package's directory, or `root`. */
export const nameOf = (readme: string): string => readme === "README.md" ? "root" : path.basename(path.dirname(readme))

/** Writes the copies; returns how many. */
export const copyAll = (): number => {
  fs.rmSync(out, { recursive: true, force: true })
  fs.mkdirSync(out, { recursive: true })
  let count = 0
  for (const readme of readmes()) {
    const found = blocks(fs.readFileSync(path.join(root, readme), "utf8"), "ts")
    found.forEach(({ code, line }, index) => {
      // `export {}` keeps a block without imports a module, so blocks never share a scope.
      const header =
        `// Generated from ${readme}:${line} by scripts/readme-examples.ts: edit the README, not this file.`
      fs.writeFileSync(path.join(out, `${nameOf(readme)}-${index + 1}.ts`), `${header}\n${code}\nexport {}\n`)
      count++
    })
  }
  return count
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    console.log(`readme examples: ${copyAll()} TypeScript blocks copied to examples/readme/`)
  } catch (error) {
    console.error(`readme examples: ${error instanceof Error ? error.message : String(error)}`)
    process.exit(1)
  }
}
