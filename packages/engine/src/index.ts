/** @promenade/engine — see README.md. */
export {};
