declare const __NIMBUS_AGENT_VERSION__: string | undefined;

/**
 * The bundle build (scripts/bundle.mjs) replaces this with a hash of the bundle, so the server
 * can tell whether a host runs the agent it would upload. Run from source it is "dev".
 */
export const AGENT_VERSION: string = typeof __NIMBUS_AGENT_VERSION__ === "string" ? __NIMBUS_AGENT_VERSION__ : "dev";
