/**
 * What the fake servers of this folder share: reading a request body.
 *
 * @internal
 */
import type * as Http from "node:http"

/** Reads a request body to its end: parsed JSON, the raw text if not JSON, `undefined` if empty. */
export const readBody = (req: Http.IncomingMessage, onBody: (body: unknown) => void): void => {
  const chunks: Array<Buffer> = []
  req.on("data", (chunk: Buffer) => chunks.push(chunk))
  req.on("end", () => {
    const text = Buffer.concat(chunks).toString("utf8")
    let body: unknown = text
    try {
      body = text === "" ? undefined : JSON.parse(text)
    } catch {
      // keep the raw text
    }
    onBody(body)
  })
}
