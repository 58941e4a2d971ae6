/** @promenade/server — see README.md. */
export {};
