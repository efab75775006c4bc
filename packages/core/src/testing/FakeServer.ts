/**
 * A real HTTP server on 127.0.0.1 that answers adapter calls from scripted, vendor-neutral scenarios.
 * The vendor part (how a reply, an error or a stream looks on the wire, and how to read a request
 * body back) is a {@link Wire}; everything else (the queue of scenarios, stream faults, resets,
 * hangs, and noticing that the client closed the connection) lives here once for every vendor.
 *
 * Tests and fake servers may use real time, so this module does.
 *
 * @since 0.1.0
 */
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import type { FinishReason, ResponseFormat, ToolChoice } from "../Model.js"
import { readBody } from "./internal/http.js"

/**
 * Token counts a scripted reply reports. The wire renders them so that the adapter's normalised usage
 * is exactly this (`inputTokens` includes `cachedInputTokens`; the total is input + output).
 *
 * @since 0.1.0
 * @category scenarios
 */
export interface ScriptedUsage {
  readonly inputTokens: number
  readonly outputTokens: number
  readonly cachedInputTokens?: number | undefined
}

/**
 * A tool call in a scripted reply; `arguments` are the deltas of its JSON arguments.
 *
 * @since 0.1.0
 * @category scenarios
 */
export interface ScriptedToolCall {
  readonly id: string
  readonly name: string
  readonly arguments: ReadonlyArray<string>
}

/**
 * A stream fault. `afterDeltas` counts entries of {@link StreamEvents.deltas}.
 * - `cut`: send the head and the first deltas, then destroy the socket.
 * - `stall`: send the head and the first deltas, then hold the connection open, silent.
 * - `malformed`: insert the wire's malformed event after the first deltas, then continue normally.
 * - `no-terminator`: send everything but the terminating event(s), then end the response cleanly.
 * - `no-finish`: send only the head and the deltas, then end the response cleanly.
 * - `hold-after-finish`: send everything but the terminator, then hold the connection open.
 *
 * @since 0.1.0
 * @category scenarios
 */
export type StreamFault =
  | { readonly type: "cut" | "stall" | "malformed"; readonly afterDeltas: number }
  | { readonly type: "no-terminator" | "no-finish" | "hold-after-finish" }

/**
 * A successful answer: text deltas, tool calls, a finish reason and usage. Served as JSON, or as a
 * stream when the request asks for one (the `fault` then applies).
 *
 * @since 0.1.0
 * @category scenarios
 */
export interface ReplyScenario {
  readonly _tag: "Reply"
  readonly id?: string | undefined
  readonly text?: ReadonlyArray<string> | undefined
  readonly toolCalls?: ReadonlyArray<ScriptedToolCall> | undefined
  readonly finishReason: FinishReason
  readonly usage: ScriptedUsage
  readonly fault?: StreamFault | undefined
}

/**
 * An error answer. `kind` asks the wire for the body the vendor sends in that case (a context-length
 * or content-filter refusal, an overload); `headers` are sent as given (`retry-after`...).
 *
 * @since 0.1.0
 * @category scenarios
 */
export interface ErrorScenario {
  readonly _tag: "Error"
  readonly status: number
  readonly kind?: "context-length" | "content-filter" | "overloaded" | undefined
  readonly message?: string | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
}

/**
 * What the server does with the next request.
 * `Reset` destroys the connection without answering; `Hang` never answers (until the client goes).
 *
 * @since 0.1.0
 * @category scenarios
 */
export type Scenario = ReplyScenario | ErrorScenario | { readonly _tag: "Reset" } | { readonly _tag: "Hang" }

/**
 * One event of a server-sent event stream.
 *
 * @since 0.1.0
 * @category wire
 */
export interface SseEvent {
  readonly event?: string | undefined
  readonly data: string
}

/**
 * A streamed reply as the vendor sends it, in four runs: `head` (message start), `deltas` (one event
 * per text or argument delta, text first), `finish` (finish reason and usage) and `terminator`
 * (`[DONE]`, `message_stop`; empty when the vendor ends by closing the response).
 *
 * @since 0.1.0
 * @category wire
 */
export interface StreamEvents {
  readonly head: ReadonlyArray<SseEvent>
  readonly deltas: ReadonlyArray<SseEvent>
  readonly finish: ReadonlyArray<SseEvent>
  readonly terminator: ReadonlyArray<SseEvent>
}

/**
 * A request as the server received it. `body` is the parsed JSON (or the raw text if not JSON).
 *
 * @since 0.1.0
 * @category wire
 */
export interface RecordedRequest {
  readonly method: string
  readonly url: string
  readonly headers: Readonly<Record<string, string | Array<string> | undefined>>
  readonly body: any
}

/**
 * A part of a message in the vendor-neutral view of a request. Tool-call `arguments` are parsed JSON.
 *
 * @since 0.1.0
 * @category wire
 */
export type ViewPart =
  | { readonly type: "text"; readonly text: string }
  | { readonly type: "image"; readonly url: string }
  | { readonly type: "tool-call"; readonly id?: string | undefined; readonly name: string; readonly arguments: unknown }
  | { readonly type: "tool-result"; readonly toolCallId?: string | undefined; readonly content: string }

/**
 * A message in the vendor-neutral view (tool results are `tool` messages whatever the vendor does).
 *
 * @since 0.1.0
 * @category wire
 */
export interface ViewMessage {
  readonly role: "user" | "assistant" | "tool"
  readonly content: ReadonlyArray<ViewPart>
}

/**
 * A request body read back in vendor-neutral terms, so the contract suite can check the mapping.
 * Fields the vendor has no place for stay undefined.
 *
 * @since 0.1.0
 * @category wire
 */
export interface RequestView {
  readonly model?: string | undefined
  readonly stream: boolean
  readonly system?: string | undefined
  readonly messages: ReadonlyArray<ViewMessage>
  readonly tools?:
    | ReadonlyArray<{ readonly name: string; readonly description?: string | undefined; readonly parameters: unknown }>
    | undefined
  readonly toolChoice?: ToolChoice | undefined
  readonly responseFormat?: ResponseFormat | undefined
  readonly temperature?: number | undefined
  readonly topP?: number | undefined
  readonly topK?: number | undefined
  readonly seed?: number | undefined
  readonly presencePenalty?: number | undefined
  readonly frequencyPenalty?: number | undefined
  readonly stop?: ReadonlyArray<string> | undefined
  readonly maxOutputTokens?: number | undefined
}

/**
 * The vendor-specific half of a fake server: how the vendor's wire format looks.
 *
 * @since 0.1.0
 * @category wire
 */
export interface Wire {
  /** Whether the request asks for a streamed answer. */
  readonly isStream: (request: RecordedRequest) => boolean
  /** The JSON body of a non-streamed reply. */
  readonly reply: (reply: ReplyScenario, request: RecordedRequest) => unknown
  /** The events of a streamed reply. */
  readonly stream: (reply: ReplyScenario, request: RecordedRequest) => StreamEvents
  /** The body (and extra headers) the vendor sends with an error status. */
  readonly error: (error: ErrorScenario) => { readonly body: unknown; readonly headers?: Record<string, string> }
  /** An event whose data is not valid for the vendor's parser (broken JSON, say). */
  readonly malformed: SseEvent
  /** The body of the health-check call (a models list), when the request is one. */
  readonly ping?: ((request: RecordedRequest) => unknown) | undefined
  /** Reads a request body back in vendor-neutral terms. */
  readonly view: (request: RecordedRequest) => RequestView
}

/**
 * A request the server has received, with whether the client closed the connection before the
 * answer was complete (the proof that an interrupt aborted the HTTP request).
 *
 * @since 0.1.0
 * @category server
 */
export interface Exchange {
  readonly request: RecordedRequest
  /** Resolves when the client closes the connection before the response ended. */
  readonly clientClosed: Promise<void>
  readonly hasClientClosed: () => boolean
}

/**
 * A running fake server.
 *
 * @since 0.1.0
 * @category server
 */
export interface FakeServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  /** Queues what to do with the next requests, in order. */
  readonly script: (...scenarios: ReadonlyArray<Scenario>) => void
  /** Forgets queued scenarios and recorded requests. */
  readonly reset: () => void
  readonly exchanges: ReadonlyArray<Exchange>
  /** The last request, read back through the wire. Throws if there was none. */
  readonly lastView: () => RequestView
  readonly lastRequest: () => RecordedRequest
  /** Resolves with the `n`th exchange (1-based) once it arrived. */
  readonly waitForRequest: (n: number, timeoutMs?: number) => Promise<Exchange>
  readonly close: () => Promise<void>
}

const formatEvent = (event: SseEvent): string =>
  (event.event !== undefined ? `event: ${event.event}\n` : "") + `data: ${event.data}\n\n`

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * Starts a fake server for a wire on 127.0.0.1 and a random port.
 *
 * @since 0.1.0
 * @category server
 */
export const start = async (wire: Wire): Promise<FakeServer> => {
  let queue: Array<Scenario> = []
  let exchanges: Array<Exchange> = []
  const waiters = new Set<() => void>()

  const serve = async (request: RecordedRequest, req: Http.IncomingMessage, res: Http.ServerResponse) => {
    const scenario = queue.shift()
    if (scenario === undefined) {
      res.writeHead(500, { "content-type": "application/json" })
      res.end(JSON.stringify({ error: { message: "fake server: no scenario scripted for this request" } }))
      return
    }
    switch (scenario._tag) {
      case "Reset":
        req.socket.destroy()
        return
      case "Hang":
        return
      case "Error": {
        const rendered = wire.error(scenario)
        res.writeHead(scenario.status, {
          "content-type": "application/json",
          ...rendered.headers,
          ...scenario.headers
        })
        res.end(JSON.stringify(rendered.body))
        return
      }
      case "Reply": {
        if (wire.ping !== undefined && request.method === "GET") {
          res.writeHead(200, { "content-type": "application/json" })
          res.end(JSON.stringify(wire.ping(request)))
          return
        }
        if (!wire.isStream(request)) {
          res.writeHead(200, { "content-type": "application/json" })
          res.end(JSON.stringify(wire.reply(scenario, request)))
          return
        }
        return streamReply(wire.stream(scenario, request), scenario.fault, req, res)
      }
    }
  }

  const streamReply = async (
    events: StreamEvents,
    fault: StreamFault | undefined,
    req: Http.IncomingMessage,
    res: Http.ServerResponse
  ) => {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", "connection": "keep-alive" })
    const send = async (list: ReadonlyArray<SseEvent>) => {
      for (const event of list) {
        if (res.destroyed) return
        res.write(formatEvent(event))
        // A short pause so the client sees the events as separate chunks, as on a real network.
        await delay(2)
      }
    }
    await send(events.head)
    if (fault !== undefined && (fault.type === "cut" || fault.type === "stall" || fault.type === "malformed")) {
      await send(events.deltas.slice(0, fault.afterDeltas))
      if (fault.type === "cut") {
        await delay(20)
        req.socket.destroy()
        return
      }
      if (fault.type === "stall") return
      await send([wire.malformed])
      await send(events.deltas.slice(fault.afterDeltas))
    } else {
      await send(events.deltas)
    }
    if (fault?.type === "no-finish") return void res.end()
    await send(events.finish)
    if (fault?.type === "hold-after-finish") return
    if (fault?.type !== "no-terminator") await send(events.terminator)
    res.end()
  }

  const server = Http.createServer((req, res) => {
    readBody(req, (body) => {
      const request: RecordedRequest = { method: req.method ?? "GET", url: req.url ?? "/", headers: req.headers, body }
      let closed = false
      let resolveClosed!: () => void
      const clientClosed = new Promise<void>((resolve) => {
        resolveClosed = resolve
      })
      res.on("close", () => {
        if (!res.writableFinished) {
          closed = true
          resolveClosed()
        }
      })
      exchanges.push({ request, clientClosed, hasClientClosed: () => closed })
      for (const waiter of waiters) waiter()
      serve(request, req, res).catch(() => req.socket.destroy())
    })
  })

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as AddressInfo).port

  const lastRequest = () => {
    const last = exchanges[exchanges.length - 1]
    if (last === undefined) throw new Error("fake server: no request received")
    return last.request
  }

  return {
    url: `http://127.0.0.1:${port}`,
    script: (...scenarios) => {
      queue.push(...scenarios)
    },
    reset: () => {
      queue = []
      exchanges = []
    },
    get exchanges() {
      return exchanges
    },
    lastRequest,
    lastView: () => wire.view(lastRequest()),
    waitForRequest: (n, timeoutMs = 5000) =>
      new Promise<Exchange>((resolve, reject) => {
        const check = () => {
          const exchange = exchanges[n - 1]
          if (exchange !== undefined) {
            waiters.delete(check)
            clearTimeout(timer)
            resolve(exchange)
          }
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`fake server: request ${n} did not arrive within ${timeoutMs}ms`))
        }, timeoutMs)
        waiters.add(check)
        check()
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

/**
 * A fixture response: a recorded vendor body (JSON, or SSE chunks as a `*.chunks.txt` file) served
 * as is.
 *
 * @since 0.1.0
 * @category server
 */
export interface Fixture {
  readonly status?: number | undefined
  readonly contentType?: string | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
  readonly body: string
}

/**
 * A server that answers every request with the same recorded fixture, for tests of an adapter's
 * parsing of real vendor payloads. Returns its URL, the requests it saw, and how to close it.
 *
 * @since 0.1.0
 * @category server
 */
export const serveFixture = async (fixture: Fixture): Promise<{
  readonly url: string
  readonly requests: ReadonlyArray<RecordedRequest>
  readonly close: () => Promise<void>
}> => {
  const requests: Array<RecordedRequest> = []
  const server = Http.createServer((req, res) => {
    readBody(req, (body) => {
      requests.push({ method: req.method ?? "GET", url: req.url ?? "/", headers: req.headers, body })
      res.writeHead(fixture.status ?? 200, {
        "content-type": fixture.contentType ??
          (fixture.body.trimStart().startsWith("data:") || fixture.body.trimStart().startsWith("event:")
            ? "text/event-stream"
            : "application/json"),
        ...fixture.headers
      })
      res.end(fixture.body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
