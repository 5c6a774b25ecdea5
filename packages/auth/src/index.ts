export { createAuth, SESSION_TTL_SECONDS, COOKIE_PREFIX, type AuthOptions, type NimbusAuth } from "./create-auth.js";
export { UserAdmin, FIRST_ADMIN_EMAIL, FIRST_ADMIN_USERNAME, type UserRow, type NewUser, type AdminContext } from "./users.js";
export { resolveAuthSecret, SECRET_FILE } from "./secret.js";
export { SignInLimiter, DEFAULT_SIGN_IN_LIMITS, type SignInLimits } from "./sign-in-limiter.js";
export { hashPassword, verifyPassword, generatePassword, checkPassword, MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH } from "./password.js";
export { AUTH_BASE_PATH, CLIENT_IP_HEADER, REQUEST_ID_HEADER, guardAuthRoutes, peerAddress, clientAddress } from "./http.js";
export { TrustedProxies } from "./trusted-proxies.js";
