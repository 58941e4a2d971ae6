// One throwaway PostgreSQL cluster for the whole integration run; each test creates its own
// database on it (`createTestDatabase` from `@promenade/store/testing`).
export { postgresGlobalSetup as default } from "@promenade/store/testing";
