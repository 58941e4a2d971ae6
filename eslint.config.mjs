// Lint gate for every package: type-checked typescript-eslint presets, --max-warnings 0.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import importX from "eslint-plugin-import-x";

/** Value imports against the dependency arrows of docs/architecture.md (type-only imports are allowed). */
const internal = [
  "store",
  "supervisor",
  "scheduler",
  "agent",
  "mcp",
  "engine",
  "server",
  "workflow",
];
const allowed = {
  workflow: [],
  mcp: [],
  store: ["workflow"],
  scheduler: ["workflow"],
  agent: ["workflow", "mcp"],
  supervisor: ["workflow"],
  server: ["workflow"],
};
const arrowRules = Object.entries(allowed).map(([pkg, ok]) => ({
  files: [`packages/${pkg}/**/*.ts`],
  ignores: [`packages/${pkg}/**/*.test.ts`, `packages/${pkg}/bench/**`],
  rules: {
    "@typescript-eslint/no-restricted-imports": [
      "error",
      {
        patterns: [
          {
            group: internal
              .filter((p) => p !== pkg && !ok.includes(p))
              .map((p) => `@promenade/${p}*`),
            allowTypeImports: true,
            message: "Value imports must follow the dependency table in docs/architecture.md.",
          },
        ],
      },
    ],
  },
}));

export default tseslint.config(
  {
    ignores: [
      "**/dist/**",
      "**/node_modules/**",
      "**/coverage/**",
      "**/.turbo/**",
      "**/fixtures/**",
      "**/*.config.ts",
      "**/*.config.mjs",
      "vitest.shared.ts",
      "**/ui/static/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { "import-x": importX },
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/explicit-module-boundary-types": "error",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
      "import-x/no-extraneous-dependencies": "error",
      "no-console": "error",
    },
  },
  {
    files: ["**/*.test.ts", "**/bench/**", "**/test/**", "**/examples/**", "apps/**"],
    rules: {
      "no-console": "off",
      "@typescript-eslint/explicit-module-boundary-types": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
    },
  },
  ...arrowRules,
);
