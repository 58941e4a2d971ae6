/** @promenade/scheduler — see README.md. */
export {};
