import effect from "@effect/eslint-plugin"
import importX from "eslint-plugin-import-x"
import tseslint from "typescript-eslint"

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "coverage/**"] },
  ...tseslint.configs.recommended,
  ...effect.configs.dprint,
  {
    // Registered as "import", as Effect's own eslint config names it.
    plugins: { import: importX },
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
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "import/first": "error",
      "import/no-duplicates": "error"
    }
  },
  {
    // A function that needs scrolling is several functions.
    files: ["src/**/*.ts"],
    rules: { "max-lines-per-function": ["error", { max: 90 }] }
  }
)
