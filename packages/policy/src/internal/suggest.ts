/**
 * Edit distance for did-you-mean, case-insensitive: insertions, deletions, substitutions and swaps of
 * two neighbouring letters (`modle` is one edit from `model`), each costing 1.
 */
export const distance = (a: string, b: string): number => {
  const x = a.toLowerCase()
  const y = b.toLowerCase()
  // Three rows of the table: two back, previous, current.
  let before: Array<number> = []
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j)
  for (let i = 1; i <= x.length; i++) {
    const current = [i]
    for (let j = 1; j <= y.length; j++) {
      const substitution = x[i - 1] === y[j - 1] ? 0 : 1
      let d = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + substitution)
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) d = Math.min(d, before[j - 2]! + 1)
      current.push(d)
    }
    before = previous
    previous = current
  }
  return previous[y.length]!
}

/**
 * The closest candidate to `word`, when it is close enough to be a plausible typo: within a third of
 * the word's length (at least 1, at most 3 edits), or a case-insensitive prefix match.
 */
export const closest = (word: string, candidates: Iterable<string>): string | undefined => {
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of candidates) {
    // An empty name (a key written `""`) is one edit from any one-letter word: never a useful suggestion.
    if (candidate === word || candidate === "") continue
    const d = distance(word, candidate)
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  if (best === undefined) return undefined
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)))
  const lower = word.toLowerCase()
  const prefix = lower.length >= 3 && best.toLowerCase().startsWith(lower)
  return bestDistance <= limit || prefix ? best : undefined
}

/** ` Did you mean `x`?` or the empty string. */
export const didYouMean = (word: string, candidates: Iterable<string>): string => {
  const best = closest(word, candidates)
  return best === undefined ? "" : `; did you mean \`${best}\`?`
}
