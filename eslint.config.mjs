import effectPlugin from "@effect/eslint-plugin"
import tseslint from "typescript-eslint"

export default tseslint.config(
  { ignores: ["**/node_modules/**", "**/build/**", "**/dist/**", "scratch/**", "reports/**", "examples/readme/**", "**/*.mjs", "**/*.js"] },
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    plugins: { "@effect": effectPlugin },
    rules: {
      "@effect/dprint": ["error", {
        config: {
          indentWidth: 2,
          lineWidth: 120,
          semiColons: "asi",
          quoteStyle: "alwaysDouble",
          trailingCommas: "never",
          operatorPosition: "maintain",
          "arrowFunction.useParentheses": "force"
        }
      }],
      "@typescript-eslint/array-type": ["error", { default: "generic", readonly: "generic" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-empty-object-type": "off",
      "@typescript-eslint/no-namespace": "off",
      "@typescript-eslint/no-this-alias": "off",
      "no-restricted-globals": ["error",
        { name: "setTimeout", message: "Time comes from Effect's Clock (see packages/core/src/Deadline.ts for the one sanctioned timer)." }
      ],
      "no-restricted-properties": ["error",
        { object: "Date", property: "now", message: "Use Effect's Clock so behaviour is deterministic under TestClock." },
        { object: "Math", property: "random", message: "Use Effect's Random so behaviour is deterministic under a seed." }
      ]
    }
  },
  {
    files: ["**/test/**/*.ts", "benchmarks/**/*.ts", "examples/**/*.ts", "packages/*/src/testing/**/*.ts"],
    rules: { "no-restricted-globals": "off", "no-restricted-properties": "off" }
  }
)
