import { preparePgliteTemplate } from "@nimbus/db/testing";

// One migrated PGlite cluster for the whole run; every backend and server process a test starts
// copies it into its data directory instead of creating and migrating its own.
export default () => preparePgliteTemplate();
