/** The shapes of the identifiers a path or message names; any other string names nothing. */

/** A run id (ULID); any other string names no run. */
export const RUN_ID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;
/** A workflow slug; any other string names no workflow. */
export const SLUG_PATTERN = /^[A-Za-z0-9-]{1,100}$/;
