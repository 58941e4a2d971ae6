/** `@promenade/workflow`: the author API, manifest schema and run-event wire format. */
export {};
