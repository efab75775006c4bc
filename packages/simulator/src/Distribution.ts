/**
 * Latency distributions for simulated providers: a lognormal fitted to a p50 and a p99, or an
 * empirical list of observed latencies. Sampling takes uniforms from a seeded generator.
 *
 * @since 0.1.0
 */

/** The 99th percentile of the standard normal distribution. */
const Z99 = 2.3263478740408408

/**
 * A source of uniform numbers in [0, 1).
 *
 * @since 0.1.0
 * @category models
 */
export interface Uniform {
  readonly number: () => number
}

/**
 * A latency distribution, in milliseconds.
 *
 * @since 0.1.0
 * @category models
 */
export type Distribution =
  | { readonly _tag: "Lognormal"; readonly mu: number; readonly sigma: number }
  | { readonly _tag: "Empirical"; readonly samples: ReadonlyArray<number> }
  | { readonly _tag: "Constant"; readonly value: number }

/**
 * The lognormal whose median is `p50` and whose 99th percentile is `p99` (`p99 ≥ p50 > 0`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const lognormal = (p50: number, p99: number): Distribution => {
  if (!(p50 > 0)) return { _tag: "Constant", value: Math.max(0, p50) }
  const sigma = p99 > p50 ? Math.log(p99 / p50) / Z99 : 0
  return sigma === 0 ? { _tag: "Constant", value: p50 } : { _tag: "Lognormal", mu: Math.log(p50), sigma }
}

/**
 * Latencies drawn uniformly from observed values.
 *
 * @since 0.1.0
 * @category constructors
 */
export const empirical = (samples: ReadonlyArray<number>): Distribution => ({ _tag: "Empirical", samples })

/**
 * A standard normal draw (Box–Muller).
 *
 * @since 0.1.0
 * @category sampling
 */
export const normal = (rng: Uniform): number => {
  const u1 = 1 - rng.number()
  const u2 = rng.number()
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2)
}

/**
 * One draw from `distribution`, scaled by `scale` (latency drift multiplies the whole distribution).
 *
 * @since 0.1.0
 * @category sampling
 */
export const sample = (distribution: Distribution, rng: Uniform, scale = 1): number => {
  switch (distribution._tag) {
    case "Constant":
      return distribution.value * scale
    case "Lognormal":
      return Math.exp(distribution.mu + distribution.sigma * normal(rng)) * scale
    case "Empirical": {
      const n = distribution.samples.length
      return n === 0 ? 0 : distribution.samples[Math.min(n - 1, Math.floor(rng.number() * n))] * scale
    }
  }
}

/**
 * The median of a distribution (used to scale drift and to describe providers).
 *
 * @since 0.1.0
 * @category getters
 */
export const median = (distribution: Distribution): number => {
  switch (distribution._tag) {
    case "Constant":
      return distribution.value
    case "Lognormal":
      return Math.exp(distribution.mu)
    case "Empirical": {
      const sorted = [...distribution.samples].sort((a, b) => a - b)
      return sorted.length === 0 ? 0 : sorted[Math.floor((sorted.length - 1) / 2)]
    }
  }
}

/**
 * An exponential draw with the given rate per millisecond (Poisson inter-arrival times).
 *
 * @since 0.1.0
 * @category sampling
 */
export const exponential = (rng: Uniform, ratePerMs: number): number => -Math.log(1 - rng.number()) / ratePerMs
