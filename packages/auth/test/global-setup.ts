import { preparePgliteTemplate } from "@nimbus/db/testing";

export default () => preparePgliteTemplate();
