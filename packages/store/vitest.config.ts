import { defineConfig } from "vitest/config";
import { projects } from "../../vitest.shared.ts";

// The integration project runs against a real PostgreSQL cluster started once per run.
export default defineConfig({
  test: {
    projects: projects().map((project) =>
      project.test?.name === "integration"
        ? { ...project, test: { ...project.test, globalSetup: ["./test/postgres.setup.ts"] } }
        : project,
    ),
  },
});
