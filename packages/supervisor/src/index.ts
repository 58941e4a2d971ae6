/** @promenade/supervisor — see README.md. */
export {};
