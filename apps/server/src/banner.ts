/**
 * What the server prints once it is up. A generated first-admin password is printed this once;
 * a password from NIMBUS_ADMIN_PASSWORD never is (the caller hands it as null): terminals are
 * recorded by CI logs and journald, and whoever set the variable knows it already.
 */
export function startupBanner(opts: { url: string; hosts: string; firstAdmin: { email: string; password: string | null } | null }): string {
  const lines = [``, `  Nimbus is running: ${opts.url}`, `  Hosts: ${opts.hosts}`];
  const admin = opts.firstAdmin;
  if (admin?.password) {
    lines.push(`  First start: sign in as ${admin.email} with password ${admin.password}`, `  (printed once; change it after signing in)`);
  } else if (admin) {
    lines.push(`  First start: sign in as ${admin.email} with the password set in NIMBUS_ADMIN_PASSWORD`);
  }
  return lines.join("\n") + "\n";
}
