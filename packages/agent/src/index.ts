/** @promenade/agent — see README.md. */
export {};
