/**
 * The one password rule, for every way a password is set: the first admin (generated or from
 * NIMBUS_ADMIN_PASSWORD), users an admin creates, and a user changing their own. Length is what
 * resists guessing; 256 bounds the hashing work a request can ask for.
 */
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;

/** Whose password it is, so it cannot simply be their sign-in name. */
export interface PasswordOwner {
  email?: string | null;
  username?: string | null;
}

/** Why `password` is refused, in words for the person choosing it; null when it is acceptable. */
export function passwordProblem(password: string, owner: PasswordOwner = {}): string | null {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) return `Use at least ${PASSWORD_MIN_LENGTH} characters (this password has ${length}).`;
  if (length > PASSWORD_MAX_LENGTH) return `Use at most ${PASSWORD_MAX_LENGTH} characters (this password has ${length}).`;
  const candidate = password.trim().toLowerCase();
  const email = owner.email?.trim().toLowerCase();
  const names = [email, email?.split("@")[0], owner.username?.trim().toLowerCase()].filter((n): n is string => !!n);
  if (names.includes(candidate)) return "The password must not be the account's email address or username.";
  return null;
}
