import { preparePgliteTemplate } from "../src/testing.js";

// always: the lock tests exercise PGlite even when the rest of the suite runs on PostgreSQL.
export default () => preparePgliteTemplate({ always: true });
