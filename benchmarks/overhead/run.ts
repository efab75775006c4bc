/**
 * The overhead benchmark (DESIGN.md §6, resilience.md §9): per-call cost of calling a provider that
 * answers at once, (a) directly, (b) through a compiled Switchyard policy (one route, two targets,
 * retry 3, total and attempt timeouts, circuit and budget stages), (c) through cockatiel 3.2.1's
 * retry + breaker + timeout wrap, and, as a reference, Effect's bare `runPromise(Effect.promise(f))`.
 *
 *   pnpm bench:overhead            (bundles this file, then node benchmarks/overhead/build/run.mjs
 *                                   [--rounds N] [--ms M] [--no-sim]; `tsx` runs it from source too)
 *
 * It runs as one bundled JavaScript file, as an application using the published packages would: under
 * tsx every function of the TypeScript source pays tsx's `__name` helper, and cockatiel (plain
 * JavaScript from node_modules) does not, which would skew the comparison.
 *
 * Method: one process, interleaved rounds (the order rotates every round), each case a timed loop of
 * sequential awaited calls for about `--ms` ms; ns/call per round; medians, min and IQR across rounds,
 * and paired ratios computed within each round. No mitata, no forced GC. Then a second figure:
 * simulated requests per second of wall time with @switchyard/simulator's runner, each of its five
 * measurements in a fresh child process (`--sim-only default|unhedged|minimal|floor|floor-child`).
 * Writes benchmarks/overhead/results.md and results.json.
 */
import { plugin as budget } from "@switchyard/budget"
import { plugin as circuit } from "@switchyard/circuit"
import type { Model, Plugin, Provider } from "@switchyard/core"
import { Deadline, Errors, Events, Router, State } from "@switchyard/core"
import * as VirtualClock from "@switchyard/core/VirtualClock"
import { Policy } from "@switchyard/policy"
import * as RequestFibers from "@switchyard/simulator/RequestFibers"
import * as Runner from "@switchyard/simulator/Runner"
import * as Scenario from "@switchyard/simulator/Scenario"
import * as Simulate from "@switchyard/simulator/Simulate"
import { circuitBreaker, ConsecutiveBreaker, handleAll, retry, timeout, TimeoutStrategy, wrap } from "cockatiel"
import { Effect, Exit, Fiber, Scope } from "effect"
import * as childProcess from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

// Run from its bundle in build/ (see benchmarks/bundle.mjs) or from source.
const dir = path.dirname(fileURLToPath(import.meta.url))
const here = path.basename(dir) === "build" ? path.dirname(dir) : dir
const args = process.argv.slice(2)
const option = (name: string, fallback: number) => {
  const index = args.indexOf(`--${name}`)
  return index >= 0 ? Number(args[index + 1]) : fallback
}
const rounds = option("rounds", 30)
const roundMs = option("ms", 150)
const simulate = !args.includes("--no-sim")
/**
 * `--profile NAME`: run only that case in a loop (for `node --cpu-prof`), then exit; with `--allocations`,
 * print the bytes it allocates per call instead.
 */
const profile = args.includes("--profile") ? args[args.indexOf("--profile") + 1] : undefined

// ---------------------------------------------------------------------------------------------
// The provider and the four ways of calling it
// ---------------------------------------------------------------------------------------------

const response: Model.ModelResponse = {
  model: "fast",
  text: "ok",
  toolCalls: [],
  finishReason: "stop",
  usage: { inputTokens: 10, outputTokens: 2, totalTokens: 12 }
}
let calls = 0
const f = async () => {
  calls++
  return response
}

const request: Model.GenerateRequest = { messages: [{ role: "user", content: "hello" }] }

const plugins: ReadonlyArray<Plugin.Plugin> = [circuit, budget]
const policyFile = path.join(here, "policy.yaml")
const compiled = await Effect.runPromise(
  Policy.compile(fs.readFileSync(policyFile, "utf8"), policyFile, { plugins })
)
const plan = compiled.plan

// Stages built as the policy compiler does: `plugin.make(section, { plan, store, events })`.
const store = State.makeMemory()
const events: Events.EventSink = { enabled: false, emit: () => {} }
const scope = Effect.runSync(Scope.make())
const stages: Array<Plugin.Stage> = []
for (const plugin of plugins) {
  const section = plan.sections[plugin.section]
  if (section !== undefined) {
    stages.push(await Effect.runPromise(Scope.extend(plugin.make(section, { plan, store, events }), scope)))
  }
}
/**
 * The provider as an adapter writes it: the SDK call (here `f`) goes through `Deadline.promise`, which
 * races it against one timer and aborts it at the attempt's deadline, as cockatiel's timeout does. It
 * therefore declares `enforcesDeadline`, and the router arms no timer of its own.
 */
const model = (name: string): Provider.LanguageModel => ({
  provider: name,
  generate: (_request, options) =>
    Deadline.promise(
      f,
      options.deadline,
      (error) => new Errors.Unavailable({ message: String(error), provider: name }),
      () => new Errors.Timeout({ message: "attempt timed out", provider: name, scope: "attempt", afterMs: 10_000 })
    ),
  enforcesDeadline: true,
  stream: () => {
    throw new Error("not used")
  }
})
/** A provider that is any Effect (`Effect.promise(f)`) and makes no promise about deadlines. */
const effectModel = (name: string): Provider.LanguageModel => ({
  provider: name,
  generate: () => Effect.promise(f),
  stream: () => {
    throw new Error("not used")
  }
})
const providers = (make: (name: string) => Provider.LanguageModel) =>
  new Map(plan.providers.map((provider) => [provider.name, make(provider.name)]))

const router = Effect.runSync(
  Router.make({ plan, providers: providers(model), stages }).pipe(
    Effect.provideService(State.State, store),
    Effect.provideService(Events.Events, events)
  )
)

// The same plan without stages: what core's pipeline costs on its own.
const coreRouter = Effect.runSync(
  Router.make({ plan, providers: providers(model) }).pipe(
    Effect.provideService(State.State, State.makeMemory()),
    Effect.provideService(Events.Events, events)
  )
)

// The same policy and stages over the Effect provider: the router bounds each attempt itself, which
// in Effect 3 takes a forked fiber per attempt.
const effectRouter = Effect.runSync(
  Router.make({ plan, providers: providers(effectModel), stages }).pipe(
    Effect.provideService(State.State, store),
    Effect.provideService(Events.Events, events)
  )
)

// The same policy with one stage only: what each stage adds to core's pipeline.
const routerWith = (name: string) =>
  Effect.runSync(
    Router.make({ plan, providers: providers(model), stages: stages.filter((stage) => stage.name === name) }).pipe(
      Effect.provideService(State.State, store),
      Effect.provideService(Events.Events, events)
    )
  )
const circuitRouter = routerWith("circuit")
const budgetRouter = routerWith("budget")

const cockatiel = wrap(
  retry(handleAll, { maxAttempts: 2 }),
  circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) }),
  timeout(10_000, TimeoutStrategy.Aggressive)
)

const bare = Effect.promise(f)

interface Case {
  readonly name: string
  readonly label: string
  readonly call: () => Promise<unknown>
}

/** A case that calls a router the way an application does: `Effect.runPromise(router.generate(request))`. */
const routed = (name: string, label: string, target: Router.Router): Case => ({
  name,
  label,
  call: () => Effect.runPromise(target.generate(request))
})

const cases: ReadonlyArray<Case> = [
  { name: "direct", label: "(a) direct `await f()`", call: f },
  routed(
    "switchyard",
    `(b) Switchyard compiled policy (${stages.map((stage) => stage.name).join(" + ")} stages)`,
    router
  ),
  routed("switchyard-core", "(b0) the same policy without stages (core's pipeline alone)", coreRouter),
  routed(
    "switchyard-effect-provider",
    "(b1) (b) with an Effect provider that does not bound itself (router arms a timer fiber)",
    effectRouter
  ),
  routed("switchyard-circuit", "(b2) (b) with the circuit stage only", circuitRouter),
  routed("switchyard-budget", "(b3) (b) with the budget stage only", budgetRouter),
  {
    name: "cockatiel",
    label: "(c) cockatiel 3.2.1 retry + breaker + timeout (Aggressive)",
    call: () => cockatiel.execute(f)
  },
  { name: "effect", label: "[ref] Effect `runPromise(Effect.promise(f))`", call: () => Effect.runPromise(bare) }
]

// ---------------------------------------------------------------------------------------------
// Measurement
// ---------------------------------------------------------------------------------------------

/** Runs `call` sequentially for about `ms` ms; returns ns per call. */
const timed = async (call: () => Promise<unknown>, ms: number): Promise<number> => {
  const batch = 64
  let n = 0
  const start = performance.now()
  let elapsed = 0
  do {
    for (let i = 0; i < batch; i++) await call()
    n += batch
    elapsed = performance.now() - start
  } while (elapsed < ms)
  return (elapsed * 1e6) / n
}

/**
 * `--profile NAME --allocations`: bytes allocated per call, short-lived objects included (V8's sampling
 * heap profiler every 256 bytes, keeping what minor and major collections freed) over 20,000 calls
 * after the warm-up, and the five functions that allocate most (by their first line in the bundle).
 */
const allocations = async (c: Case) => {
  const inspector = await import("node:inspector/promises")
  const session = new inspector.Session()
  session.connect()
  await session.post("HeapProfiler.enable")
  await session.post("HeapProfiler.startSampling", {
    samplingInterval: 256,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true
  })
  const count = 20_000
  for (let i = 0; i < count; i++) await c.call()
  const { profile: sampled } = await session.post("HeapProfiler.stopSampling")
  const byFunction = new Map<string, number>()
  let total = 0
  const walk = (node: typeof sampled.head) => {
    const key = `${node.callFrame.functionName || "(anonymous)"}:${node.callFrame.lineNumber + 1}`
    byFunction.set(key, (byFunction.get(key) ?? 0) + node.selfSize)
    total += node.selfSize
    node.children.forEach(walk)
  }
  walk(sampled.head)
  console.log(`${c.name}: ${Math.round(total / count)} bytes/call`)
  for (const [key, bytes] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 5)) {
    console.log(`  ${String(Math.round(bytes / count)).padStart(6)}  ${key}`)
  }
}

// ---------------------------------------------------------------------------------------------
// Second figure: simulated requests per second of wall time
// ---------------------------------------------------------------------------------------------

interface Simulation {
  readonly scenario: string
  readonly requests: number
  readonly wallMs: number
  readonly requestsPerSecond: number
}

/**
 * Effect's own floor for a simulated request, on the runner's virtual clock, scheduler and reused
 * request fibers: each of `count` open-loop arrivals (50 per virtual second) sleeps 800 virtual ms
 * and then takes 20 effect steps, as a plain request through the router does; with `childFiber`, the
 * work runs in one forked child that the root awaits, as a hedged request runs each target. Nothing
 * else: no router, provider or metrics. Answers requests per second of wall time.
 */
const floorRequestsPerSecond = async (count: number, childFiber: boolean): Promise<number> => {
  const clock = new VirtualClock.VirtualClock(0)
  const scheduler = new VirtualClock.VirtualScheduler()
  let work: Effect.Effect<unknown> = Effect.sleep(800)
  for (let step = 0; step < 20; step++) work = Effect.flatMap(work, () => Effect.succeed(step))
  const request = childFiber ? Effect.flatMap(Effect.fork(work), Fiber.await) : work
  let ended = 0
  const program = Effect.gen(function*() {
    const fibers = RequestFibers.make(yield* Effect.runtime<never>())
    let arrived = 0
    const arrive = () => {
      fibers.run(request, () => ended++)
      if (++arrived < count) clock.unsafeSchedule(arrive, 20)
    }
    clock.unsafeSchedule(arrive, 20)
    yield* Effect.sleep(count * 20 + 1000)
  }).pipe(Effect.withClock(clock))
  const started = performance.now()
  const main = Effect.runFork(program, { scheduler })
  await VirtualClock.drive({ clock, scheduler, done: () => main.unsafePoll() !== null })
  const wallMs = performance.now() - started
  if (ended !== count) throw new Error(`floor: ${ended} of ${count} requests ended`)
  return count / (wallMs / 1000)
}

interface Floor {
  readonly requests: number
  readonly plainRequestsPerSecond: number
  readonly childFiberRequestsPerSecond: number
}

/**
 * One measurement of the simulation figure, in a process of its own (`--sim-only KIND`): in the
 * process of the timed loops above the same run was about a third slower, once those loops had made
 * Effect's run loop megamorphic, and a user's `switchyard simulate` runs in a fresh process. Each
 * measurement gets a fresh process too, so that none runs on code warmed by another.
 */
const simulationKinds = ["default", "unhedged", "minimal", "floor", "floor-child"] as const
type SimulationKind = typeof simulationKinds[number]

const measureSimulation = async (kind: SimulationKind): Promise<Simulation | number> => {
  const base = Scenario.load(path.join(here, "..", "scenarios", "S1-primary-hard-down.yaml"))
  const scenario = { ...base, name: `${base.name}, 30 min`, duration: 30 * 60_000 }
  const policyFile = path.join(here, "..", "chaos", "default-policy.yaml")
  const measure = async (file: string): Promise<Simulation> => {
    const policy = await Simulate.fromPolicyFile(file, { plugins, name: "default" })
    const result = await Runner.run({ scenario, policy, seed: 1 })
    return {
      scenario: scenario.name,
      requests: result.metrics.requests,
      wallMs: result.wall.ms,
      requestsPerSecond: result.wall.requestsPerSecond
    }
  }
  if (kind === "default") return measure(policyFile)
  // The same policy without its hedge (a hedged request runs each target in a fiber of its own), and
  // for `minimal` without its breakers and budget too: the least work the engine does per request.
  if (kind === "unhedged" || kind === "minimal") {
    const text = fs.readFileSync(policyFile, "utf8")
    // A key and the lines of its block (indented deeper), in either YAML form.
    const hedge = /^ {4}hedge:.*\n(?: {6,}.*\n)*/m
    const blocks = kind === "unhedged" ? [hedge] : [
      hedge,
      /^circuit:.*\n(?: +.*\n)*/m,
      /^budget:.*\n(?: +.*\n)*/m,
      /^environments:.*\n(?: +.*\n)*/m
    ]
    let stripped = text
    for (const block of blocks) {
      if (!block.test(stripped)) throw new Error(`default-policy.yaml has no ${block.source} block to remove`)
      stripped = stripped.replace(block, "")
    }
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-overhead-")), `${kind}.yaml`)
    fs.writeFileSync(file, stripped)
    return measure(file)
  }
  // As many arrivals as the default policy's run had (`--requests`, passed by the parent process).
  const requests = option("requests", Number.NaN)
  if (!(requests > 0)) throw new Error("--sim-only floor needs --requests N")
  return floorRequestsPerSecond(requests, kind === "floor-child")
}

/** Runs one measurement in a child process of this script and reads its JSON answer. */
const inChildProcess = (kind: SimulationKind, requests?: number): Simulation | number => {
  const script = fileURLToPath(import.meta.url)
  const extra = requests === undefined ? [] : ["--requests", String(requests)]
  const child = childProcess.spawnSync(process.execPath, [...process.execArgv, script, "--sim-only", kind, ...extra], {
    encoding: "utf8",
    maxBuffer: 16 * 1024 * 1024,
    stdio: ["ignore", "pipe", "inherit"]
  })
  if (child.status !== 0) throw new Error(`the ${kind} simulation exited with status ${child.status}`)
  return JSON.parse(child.stdout.trim().split("\n").at(-1)!) as Simulation | number
}

const simOnly = args.includes("--sim-only") ? args[args.indexOf("--sim-only") + 1] as SimulationKind : undefined
if (simOnly !== undefined) {
  if (!simulationKinds.includes(simOnly)) {
    throw new Error(`no simulation ${simOnly}`)
  }
  console.log(JSON.stringify(await measureSimulation(simOnly)))
  process.exit(0)
}

// Every case must really call the provider once per call.
for (const c of cases) {
  const before = calls
  await c.call()
  if (calls - before !== 1) throw new Error(`${c.name} made ${calls - before} provider calls for one call`)
}

if (profile !== undefined) {
  const c = cases.find((candidate) => candidate.name === profile)
  if (c === undefined) throw new Error(`no case ${profile}; cases: ${cases.map((each) => each.name).join(", ")}`)
  await timed(c.call, 1_000) // let V8 compile it first
  if (args.includes("--allocations")) await allocations(c)
  else console.log(`${profile}: ${(await timed(c.call, roundMs * rounds) / 1000).toFixed(2)} µs/call`)
  process.exit(0)
}

// Warm-up: JIT every path before measuring.
for (const c of cases) await timed(c.call, roundMs)

const samples: Record<string, Array<number>> = Object.fromEntries(cases.map((c) => [c.name, []]))
for (let round = 0; round < rounds; round++) {
  const order = cases.map((_, i) => cases[(i + round) % cases.length])
  for (const c of order) samples[c.name].push(await timed(c.call, roundMs))
  // On a terminal one line that updates; in a log, a line every 10 rounds.
  if (process.stderr.isTTY) process.stderr.write(`\rround ${round + 1}/${rounds}`)
  else if ((round + 1) % 10 === 0 || round + 1 === rounds) process.stderr.write(`round ${round + 1}/${rounds}\n`)
}
if (process.stderr.isTTY) process.stderr.write("\n")
await Effect.runPromise(Scope.close(scope, Exit.void))

const quantile = (values: ReadonlyArray<number>, q: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  const position = (sorted.length - 1) * q
  const low = Math.floor(position)
  const high = Math.ceil(position)
  return sorted[low] + (sorted[high] - sorted[low]) * (position - low)
}
const median = (values: ReadonlyArray<number>) => quantile(values, 0.5)
const paired = (a: string, b: string) => samples[a].map((value, i) => value / samples[b][i])

const stats = cases.map((c) => {
  const values = samples[c.name]
  return {
    name: c.name,
    label: c.label,
    medianNs: median(values),
    minNs: Math.min(...values),
    iqrNs: [quantile(values, 0.25), quantile(values, 0.75)] as const,
    vsDirect: median(paired(c.name, "direct"))
  }
})
const switchyardVsCockatiel = paired("switchyard", "cockatiel")
const ratio = {
  median: median(switchyardVsCockatiel),
  min: Math.min(...switchyardVsCockatiel),
  max: Math.max(...switchyardVsCockatiel)
}
const met = ratio.median <= 1

let simulation: Simulation | undefined
let withoutHedge: Simulation | undefined
let minimal: Simulation | undefined
let floor: Floor | undefined
if (simulate) {
  process.stderr.write("simulation: the default policy...\n")
  simulation = inChildProcess("default") as Simulation
  process.stderr.write("simulation: the same policy without its hedge...\n")
  withoutHedge = inChildProcess("unhedged") as Simulation
  process.stderr.write("simulation: the same policy without its hedge, breakers and budget...\n")
  minimal = inChildProcess("minimal") as Simulation
  process.stderr.write("simulation: Effect's floors...\n")
  const count = simulation.requests
  floor = {
    requests: count,
    plainRequestsPerSecond: inChildProcess("floor", count) as number,
    childFiberRequestsPerSecond: inChildProcess("floor-child", count) as number
  }
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

const us = (ns: number) => (ns / 1000).toFixed(2)
const load = os.loadavg().map((l) => l.toFixed(2)).join(", ")
const stageNames = stages.map((stage) => stage.name)
const lines = [
  "# Overhead benchmark results",
  "",
  "Generated by `benchmarks/overhead/run.ts` (`pnpm bench:overhead`, run as one bundled JavaScript file,",
  "as an application runs the published packages). A provider that answers at once (`async () =>",
  "response`), called sequentially; no policy ever fires. Interleaved rounds (order rotated every round),",
  `${rounds} rounds of about ${roundMs} ms per case, after one warm-up round. Medians, min and IQR across`,
  "rounds; ratios are paired within each round, then the median is taken.",
  "",
  "- The provider of (b) and (b0) calls `f` as the adapters call their SDK: through `Deadline.promise`,",
  "  which races it against one timer and aborts it at the attempt's deadline (cockatiel's timeout does",
  "  the same), so it declares `enforcesDeadline`. (b1) gives the router a plain `Effect.promise(f)`",
  "  instead: the router then bounds the attempt itself, which in Effect 3 takes a forked fiber.",
  `- Node ${process.version} on ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, load average ${load}`,
  `- Switchyard pipeline: \`benchmarks/overhead/policy.yaml\` compiled by @switchyard/policy (one route, two`,
  `  targets, retry maxAttempts 3, total 30 s and attempt 10 s timeouts); stages present: ${
    stageNames.length === 0 ? "none" : stageNames.join(", ")
  } (built with \`plugin.make(section, { plan, store, events })\`); called as`,
  "  `Effect.runPromise(router.generate(request))`.",
  "- cockatiel 3.2.1: `wrap(retry(handleAll, { maxAttempts: 2 }), circuitBreaker(handleAll, { halfOpenAfter:",
  "  10_000, breaker: new ConsecutiveBreaker(5) }), timeout(10_000, TimeoutStrategy.Aggressive))`.",
  "",
  "| case | median µs/call | min µs/call | IQR µs/call | paired × direct |",
  "| --- | ---: | ---: | ---: | ---: |",
  ...stats.map((s) =>
    `| ${s.label} | ${us(s.medianNs)} | ${us(s.minNs)} | ${us(s.iqrNs[0])}–${us(s.iqrNs[1])} | ${
      s.vsDirect.toFixed(0)
    }× |`
  ),
  "",
  `**Switchyard ÷ cockatiel (paired per round): median ${ratio.median.toFixed(2)}× (range ${ratio.min.toFixed(2)}–${
    ratio.max.toFixed(2)
  }).**`,
  "",
  `Bar (DESIGN.md §6: the Switchyard pipeline costs no more per call than cockatiel's): **${
    met ? "met" : "missed"
  }** in this run.`,
  "",
  "## Simulation throughput",
  "",
  simulation === undefined ?
    "Not measured in this run (`--no-sim`)." :
    `@switchyard/simulator's runner (\`Runner.run\`, in a fresh process), scenario "${simulation.scenario}" with` +
    ` \`benchmarks/chaos/default-policy.yaml\` (circuit + budget), seed 1: ${simulation.requests} simulated` +
    ` requests in ${(simulation.wallMs / 1000).toFixed(2)} s of wall time = **${
      Math.round(simulation.requestsPerSecond)
    } simulated requests per second** (bar: 100,000).`,
  "",
  ...(withoutHedge === undefined || minimal === undefined || floor === undefined ? [] : [
    "What bounds it, each measured in a fresh process of its own (as `switchyard simulate` runs):",
    "",
    "| run | simulated requests per second |",
    "| --- | ---: |",
    `| the default policy, as above | ${Math.round(simulation!.requestsPerSecond)} |`,
    `| the same policy without its hedge (a hedged request runs its first target in a fiber of its own) | ${
      Math.round(withoutHedge.requestsPerSecond)
    } |`,
    `| the same policy without its hedge, breakers and budget (routing, retry, deadlines and rate limits of the simulated providers) | ${
      Math.round(minimal.requestsPerSecond)
    } |`,
    `| Effect's floor: a reused request fiber, an 800 ms virtual sleep and 20 effect steps, nothing else | ${
      Math.round(floor.plainRequestsPerSecond)
    } |`,
    `| Effect's floor with one child fiber per request (forked and awaited), as a hedged request has | ${
      Math.round(floor.childFiberRequestsPerSecond)
    } |`,
    "",
    `The floors run ${floor.requests} arrivals on the runner's virtual clock, scheduler and request fibers`,
    "(`RequestFibers`) with no router, provider or metrics: no engine that runs each request as Effect",
    "code on these can simulate faster than they do.",
    ""
  ]),
  "Absolute numbers depend on the machine and its load (this VM is shared); compare the rows of one run",
  "with each other."
]
const markdown = lines.join("\n") + "\n"
fs.writeFileSync(path.join(here, "results.md"), markdown)
fs.writeFileSync(
  path.join(here, "results.json"),
  JSON.stringify(
    {
      node: process.version,
      loadAverage: os.loadavg(),
      rounds,
      roundMs,
      stages: stageNames,
      cases: stats,
      samplesNs: samples,
      switchyardVsCockatiel: ratio,
      barMet: met,
      simulation,
      simulationWithoutHedge: withoutHedge,
      simulationMinimal: minimal,
      floor
    },
    null,
    2
  ) + "\n"
)
console.log(markdown)
