/**
 * Copies every ```ts block of the READMEs (the root one, and those of packages/, examples/ and
 * benchmarks/) into examples/readme/ as a module of its own, so that `pnpm check` type-checks them with
 * the rest of the repository: a README example that no longer compiles fails CI like any code.
 *
 *   node scripts/readme-examples.mjs      (run by `pnpm check`, before tsc)
 *
 * The output is generated (git ignores it): edit the README, not the copy. Each copy is named after
 * its package and the block's position (`core-1.ts` is the first block of packages/core/README.md) and
 * starts with the line of the README it came from.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const out = path.join(root, "examples", "readme")

const readmes = ["README.md"]
for (const dir of ["packages", "examples", "benchmarks"]) {
  for (const entry of fs.readdirSync(path.join(root, dir)).sort()) {
    const file = path.join(dir, entry, "README.md")
    if (fs.existsSync(path.join(root, file))) readmes.push(file)
  }
}

/** The ```ts blocks of a markdown text, with the 1-based line of each opening fence. */
const blocks = (text) => {
  const found = []
  const lines = text.split("\n")
  for (let i = 0; i < lines.length; i++) {
    const open = /^( *)```ts\s*$/.exec(lines[i])
    if (open === null) continue
    const indent = open[1]
    const body = []
    let j = i + 1
    while (j < lines.length && lines[j] !== `${indent}\`\`\``) {
      body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j])
      j++
    }
    if (j === lines.length) throw new Error(`unclosed \`\`\`ts block at line ${i + 1}`)
    found.push({ line: i + 1, code: body.join("\n") })
    i = j
  }
  return found
}

fs.rmSync(out, { recursive: true, force: true })
fs.mkdirSync(out, { recursive: true })
let count = 0
for (const readme of readmes) {
  const name = readme === "README.md" ? "root" : path.basename(path.dirname(readme))
  let found
  try {
    found = blocks(fs.readFileSync(path.join(root, readme), "utf8"))
  } catch (error) {
    console.error(`${readme}: ${error.message}`)
    process.exit(1)
  }
  found.forEach(({ code, line }, index) => {
    // `export {}` keeps a block without imports a module, so blocks never share a scope.
    const text = `// Generated from ${readme}:${line} by scripts/readme-examples.mjs: edit the README, not this file.\n${code}\nexport {}\n`
    fs.writeFileSync(path.join(out, `${name}-${index + 1}.ts`), text)
    count++
  })
}
console.log(`readme examples: ${count} blocks from ${readmes.length} READMEs in examples/readme/`)
