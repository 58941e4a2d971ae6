/** @promenade/mcp — see README.md. */
export {};
