import { defineConfig } from "vitest/config";
import { projects } from "../../vitest.shared.ts";

// The integration project shares one PostgreSQL cluster (see test/postgres.setup.ts).
export default defineConfig({
  test: {
    projects: projects().map((project) =>
      project.test?.name === "integration"
        ? { ...project, test: { ...project.test, globalSetup: ["./test/postgres.setup.ts"] } }
        : project,
    ),
  },
});
