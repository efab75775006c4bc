/**
 * The request features the router routes on, pinned by the documented rules (characters / 4, an
 * image as 1,000 tokens; vision, tools, json, streaming), independently of how the router computes
 * them: @switchyard/testing's law checks use these functions as their oracle's classification.
 */
import { describe, expect, it } from "@effect/vitest"
import type { Model, Plan } from "@switchyard/core"
import { RequestFeatures } from "@switchyard/core"
import { defaultCapabilities } from "@switchyard/core/Model"
import { FastCheck as fc } from "effect"

const user = (content: Model.UserMessage["content"]): Model.GenerateRequest["messages"][number] => ({
  role: "user",
  content
})

describe("estimateInputTokens", () => {
  it.prop(
    "is the characters of the system prompt and string messages / 4, rounded up",
    [fc.option(fc.string(), { nil: undefined }), fc.array(fc.string(), { maxLength: 6 })],
    ([system, texts]) => {
      const request: Model.GenerateRequest = {
        ...(system === undefined ? {} : { system }),
        messages: texts.map((text) => user(text))
      }
      const chars = (system?.length ?? 0) + texts.reduce((n, text) => n + text.length, 0)
      expect(RequestFeatures.estimateInputTokens(request)).toBe(Math.ceil(chars / 4))
    }
  )

  it("counts text parts, an image as 1,000 tokens, tool calls, tool results and tool schemas", () => {
    const request: Model.GenerateRequest = {
      messages: [
        user([{ type: "text", text: "abcd" }, { type: "image", url: "https://x/y.png" }]),
        { role: "assistant", content: [{ type: "tool-call", id: "1", name: "get", arguments: "{\"a\":1}" }] },
        { role: "tool", content: [{ type: "tool-result", toolCallId: "1", content: "12345678" }] }
      ],
      tools: [{ name: "get", parameters: { type: "object" } }]
    }
    // 4 + 4000 + (3 + 7) + 8 + (3 + 17) = 4042 characters
    expect(RequestFeatures.estimateInputTokens(request)).toBe(Math.ceil(4042 / 4))
  })
})

describe("neededCapabilities", () => {
  const tools = [{ name: "get", parameters: {} }]

  it("needs nothing for plain text, and streaming only when streaming", () => {
    const request: Model.GenerateRequest = { messages: [user("hi")] }
    expect(RequestFeatures.neededCapabilities(request, false)).toEqual([])
    expect(RequestFeatures.neededCapabilities(request, true)).toEqual(["streaming"])
  })

  it("needs vision, tools and json, in that order", () => {
    const request: Model.GenerateRequest = {
      messages: [user([{ type: "image", url: "https://x/y.png" }])],
      tools,
      responseFormat: { type: "json" }
    }
    expect(RequestFeatures.neededCapabilities(request, true)).toEqual(["vision", "tools", "json", "streaming"])
  })

  it("does not need tools when none are offered or toolChoice is none, nor json for a text format", () => {
    expect(RequestFeatures.neededCapabilities({ messages: [user("hi")], tools: [] }, false)).toEqual([])
    expect(RequestFeatures.neededCapabilities({ messages: [user("hi")], tools, toolChoice: "none" }, false))
      .toEqual([])
    expect(RequestFeatures.neededCapabilities({ messages: [user("hi")], tools, toolChoice: "required" }, false))
      .toEqual(["tools"])
    expect(RequestFeatures.neededCapabilities({ messages: [user("hi")], responseFormat: { type: "text" } }, false))
      .toEqual([])
  })
})

describe("lacksCapability", () => {
  const flag: Record<Plan.NeededCapability, keyof Model.Capabilities> = {
    vision: "vision",
    tools: "tools",
    json: "jsonOutput",
    streaming: "streaming"
  }

  it("answers from the model's flag for each need, and from that flag only", () => {
    for (const need of ["vision", "tools", "json", "streaming"] as const) {
      const all = { ...defaultCapabilities, vision: true, tools: true, jsonOutput: true, streaming: true }
      expect(RequestFeatures.lacksCapability(all, need)).toBe(false)
      expect(RequestFeatures.lacksCapability({ ...all, [flag[need]]: false }, need)).toBe(true)
      const none = { ...defaultCapabilities, vision: false, tools: false, jsonOutput: false, streaming: false }
      expect(RequestFeatures.lacksCapability({ ...none, [flag[need]]: true }, need)).toBe(false)
    }
  })
})
