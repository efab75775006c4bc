import { describe, expect, it } from "@effect/vitest"
import * as Errors from "@switchyard/core/Errors"
import * as Metrics from "@switchyard/simulator/Metrics"

describe("Metrics", () => {
  it("histogram quantiles are within 1% above the exact ones", () => {
    const h = new Metrics.Histogram()
    const xs = Array.from({ length: 10_000 }, (_, i) => 1 + i * 3.7)
    for (const x of xs) h.record(x)
    for (const q of [0.5, 0.99, 0.999]) {
      const exact = xs[Math.ceil(q * xs.length) - 1]
      const got = h.quantile(q)
      expect(got).toBeGreaterThanOrEqual(exact)
      expect(got / exact).toBeLessThan(1.011)
    }
    expect(h.count).toBe(10_000)
  })

  it("counts attempts made after a non-retryable answer (law L2), not those before it", () => {
    const sink = new Metrics.EventAggregator()
    const base = { at: 0, target: "A/m", provider: "A", hedge: false, deadline: undefined }
    const bad = new Errors.InvalidRequest({ message: "bad" })
    // r1: a 503 on A, then a 400 on B: fine. r2: a 400, then another attempt: a violation.
    sink.emit({ type: "attempt-started", requestId: "r1", attempt: 0, ...base })
    sink.emit({
      type: "attempt-ended",
      at: 1,
      requestId: "r1",
      target: "A/m",
      provider: "A",
      attempt: 0,
      outcome: "failure",
      error: new Errors.Unavailable({ message: "x" })
    })
    sink.emit({ type: "attempt-started", requestId: "r1", attempt: 1, ...base })
    sink.emit({
      type: "attempt-ended",
      at: 2,
      requestId: "r1",
      target: "B/m",
      provider: "B",
      attempt: 1,
      outcome: "failure",
      error: bad
    })
    sink.emit({ type: "request-ended", at: 2, requestId: "r1", outcome: "failed", error: bad })
    sink.emit({ type: "attempt-started", requestId: "r2", attempt: 0, ...base })
    sink.emit({
      type: "attempt-ended",
      at: 1,
      requestId: "r2",
      target: "A/m",
      provider: "A",
      attempt: 0,
      outcome: "failure",
      error: bad
    })
    sink.emit({ type: "attempt-started", requestId: "r2", attempt: 1, ...base })
    sink.emit({ type: "request-ended", at: 2, requestId: "r2", outcome: "failed", error: bad })
    expect(sink.clientErrorRequests).toBe(2)
    expect(sink.attemptsAfterClientError).toBe(1)
    expect(sink.attempts).toBe(4)
  })

  it("recognises breaker openings, not half-openings or budget events", () => {
    const change = (plugin: string, name: string) => ({ at: 0, plugin, name, target: "A/m", to: undefined })
    expect(Metrics.isOpening(change("circuit", "opened"))).toBe(true)
    expect(Metrics.isOpening(change("circuit", "half-opened"))).toBe(false)
    expect(Metrics.isOpening(change("circuit", "ejected"))).toBe(true)
    expect(Metrics.isTransition(change("circuit", "closed"))).toBe(true)
    expect(Metrics.isTransition(change("budget", "settled"))).toBe(false)
  })
})
