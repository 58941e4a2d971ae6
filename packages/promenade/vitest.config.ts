import { defineConfig } from "vitest/config";
import { projects } from "../../vitest.shared.ts";

export default defineConfig({ test: { projects: projects() } });
