/** @promenade/store — see README.md. */
export {};
