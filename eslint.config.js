import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/node_modules/**", "**/dist/**", "data/**", "packages/protocol/src/generated/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2022, sourceType: "module" },
    rules: {
      "@typescript-eslint/no-non-null-assertion": "off",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" },
      ],
      "no-constant-condition": ["error", { checkLoops: false }],
      "no-empty": ["error", { allowEmptyCatch: true }],
    },
  },
  {
    // The management UI runs in the browser; the scripts that drive it in Chromium pass
    // functions that run in the page (page.evaluate), so they see the browser's globals too.
    files: [
      "packages/management/ui/**",
      "interop/ui.test.mjs",
      "interop/lib/ui-browser.mjs",
      "scripts/ui-*.mjs",
      "bench/ui-*.mjs",
    ],
    languageOptions: { globals: { ...globals.browser } },
  },
);
