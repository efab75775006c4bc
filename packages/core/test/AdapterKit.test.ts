import { assert, describe, it } from "@effect/vitest"
import * as AdapterKit from "@switchyard/core/AdapterKit"
import { Effect } from "effect"
import * as Schema from "effect/Schema"

describe("AdapterKit.decodeOptions", () => {
  const decode = AdapterKit.decodeOptions(
    Schema.Struct({ region: Schema.optional(Schema.String), retries: Schema.optional(Schema.Number) })
  )

  it.effect("decodes the options an adapter knows", () =>
    Effect.gen(function*() {
      const options = yield* decode({ name: "p", adapter: "x", options: { region: "eu", retries: 2 } })
      assert.deepStrictEqual(options, { region: "eu", retries: 2 })
    }))

  it.effect("names every unknown or wrong option in one error", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(decode({ name: "p", adapter: "x", options: { regoin: "eu", retries: "2" } }))
      assert.strictEqual(error.provider, "p")
      assert.strictEqual(
        error.message,
        "invalid options for provider `p`: unknown option `regoin` (known: region, retries); " +
          "option `retries`: Expected number, actual \"2\""
      )
    }))
})
