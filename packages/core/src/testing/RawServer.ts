/**
 * A real HTTP server on 127.0.0.1 (random port) that replays raw scripted replies: JSON bodies, SSE
 * streams (which may stall, end early or be cut), connection resets. It records every request and
 * whether the client closed the connection before the reply was complete.
 *
 * Where {@link FakeServer} renders vendor-neutral scenarios through a wire, this one sends exactly
 * the bytes a test gives it, for tests of an adapter's parsing of hand-written vendor payloads.
 * Tests and fake servers may use real time, so this module does.
 *
 * @since 0.1.0
 */
import * as Http from "node:http"
import type { AddressInfo, Socket } from "node:net"
import { readBody } from "./internal/http.js"

/**
 * A scripted reply, sent as is.
 *
 * @since 0.1.0
 * @category models
 */
export type Reply =
  | {
    readonly kind: "json"
    readonly status: number
    readonly body: unknown
    readonly headers?: Record<string, string>
  }
  | {
    readonly kind: "sse"
    /** Raw SSE text pieces, written one by one. */
    readonly chunks: ReadonlyArray<string>
    readonly headers?: Record<string, string>
    /** Wait between pieces, in ms. */
    readonly delayMs?: number
    /** After the last piece: end the response (default), keep it open, or destroy the socket. */
    readonly after?: "end" | "hang" | "destroy"
  }
  /** Destroy the socket without answering. */
  | { readonly kind: "reset" }
  /** Never answer. */
  | { readonly kind: "hang" }

/**
 * A request the server received.
 *
 * @since 0.1.0
 * @category models
 */
export interface Recorded {
  readonly method: string
  readonly path: string
  readonly headers: Http.IncomingHttpHeaders
  readonly body: any
  /** Whether the client closed the connection before the reply was complete. */
  closedByClient: boolean
  readonly closed: Promise<void>
}

/**
 * A running raw server.
 *
 * @since 0.1.0
 * @category models
 */
export interface RawServer {
  readonly url: string
  readonly requests: Array<Recorded>
  enqueue(...replies: ReadonlyArray<Reply>): void
  reset(): void
  close(): Promise<void>
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * Starts a raw server on 127.0.0.1 and a random port. A request with no reply queued gets a 500.
 *
 * @since 0.1.0
 * @category constructors
 */
export const start = async (): Promise<RawServer> => {
  const queue: Array<Reply> = []
  const requests: Array<Recorded> = []
  const sockets = new Set<Socket>()

  const server = Http.createServer((req, res) => {
    readBody(req, (body) => {
      let finished = false
      let resolveClosed!: () => void
      const record: Recorded = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body,
        closedByClient: false,
        closed: new Promise<void>((resolve) => {
          resolveClosed = resolve
        })
      }
      requests.push(record)
      res.on("close", () => {
        if (!finished) record.closedByClient = true
        resolveClosed()
      })
      const reply = queue.shift() ?? { kind: "json", status: 500, body: { error: "no scripted reply" } }
      void play(reply, res, () => {
        finished = true
      })
    })
  })
  server.on("connection", (socket) => {
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
  })

  const play = async (reply: Reply, res: Http.ServerResponse, done: () => void) => {
    switch (reply.kind) {
      case "json": {
        res.writeHead(reply.status, { "content-type": "application/json", ...reply.headers })
        res.end(JSON.stringify(reply.body))
        done()
        return
      }
      case "reset": {
        done()
        res.socket?.destroy()
        return
      }
      case "hang":
        return
      case "sse": {
        res.writeHead(200, {
          "content-type": "text/event-stream",
          "cache-control": "no-cache",
          connection: "keep-alive",
          ...reply.headers
        })
        res.flushHeaders()
        for (const chunk of reply.chunks) {
          if (res.destroyed) return
          if (reply.delayMs !== undefined) await sleep(reply.delayMs)
          await new Promise<void>((resolve) => res.write(chunk, () => resolve()))
        }
        const after = reply.after ?? "end"
        if (after === "end") {
          done()
          res.end()
        } else if (after === "destroy") {
          // Let the written pieces reach the client before the cut.
          await sleep(20)
          done()
          res.socket?.destroy()
        }
        return
      }
    }
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    enqueue: (...replies) => {
      queue.push(...replies)
    },
    reset: () => {
      queue.length = 0
      requests.length = 0
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      })
  }
}

/**
 * Waits until the client closed the connection of a request; `false` if it did not within `ms`.
 *
 * @since 0.1.0
 * @category utils
 */
export const closedWithin = async (record: Recorded, ms: number): Promise<boolean> => {
  const result = await Promise.race([record.closed.then(() => true), sleep(ms).then(() => false)])
  return result && record.closedByClient
}
