/** Levenshtein distance, for did-you-mean. */
export const distance = (a: string, b: string): number => {
  const previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0]!
    previous[0] = i
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j]!
      previous[j] = Math.min(
        above + 1,
        previous[j - 1]! + 1,
        diagonal + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1)
      )
      diagonal = above
    }
  }
  return previous[b.length]!
}

/**
 * The closest candidate to `word`, when it is close enough to be a plausible typo: within a third of
 * the word's length (at least 1, at most 3 edits), or a case-insensitive prefix match.
 */
export const closest = (word: string, candidates: Iterable<string>): string | undefined => {
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of candidates) {
    if (candidate === word) continue
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
