"use client";
import { useState, type FormEvent } from "react";
import { z } from "zod";
import { PASSWORD_MIN_LENGTH, passwordProblem } from "@nimbus/domain";
import { Button } from "@/components/ui/button";
import { Field, Input, Select } from "@/components/ui/field";
import { ROLE_HINT, ROLE_LABEL, type Role, type TenantRow } from "./types";
import { issueText } from "@/lib/errors";

/** Mirrors admin.users.create's input; the server validates again. */
export const NewUser = z
  .object({
    email: z.email("an email address"),
    name: z.string().trim().min(1, "a name").max(80),
    password: z.string(),
    role: z.enum(["admin", "operator", "oncall", "tenant"]),
    tenant: z.string().nullable(),
  })
  .refine((u) => u.role !== "tenant" || !!u.tenant, { path: ["tenant"], message: "a tenant member needs a tenant" })
  // The one password policy, as the server applies it (domain/password-policy.ts).
  .superRefine((u, ctx) => {
    const problem = passwordProblem(u.password, { email: u.email });
    if (problem) ctx.addIssue({ code: "custom", path: ["password"], message: problem });
  });
export type NewUser = z.infer<typeof NewUser>;

/** 20 characters from a browser CSPRNG; shown once so the admin can hand it over. */
export function generatePassword(): string {
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  const bytes = crypto.getRandomValues(new Uint8Array(20));
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}

export const USER_FORM_ID = "user-form";

export function UserForm({ tenants, onSubmit }: { tenants: TenantRow[]; onSubmit: (u: NewUser) => void }) {
  const [value, setValue] = useState<NewUser>({ email: "", name: "", password: "", role: "operator", tenant: null });
  const [errors, setErrors] = useState<Partial<Record<keyof NewUser, string>>>({});
  const set = <K extends keyof NewUser>(k: K, v: NewUser[K]) => setValue((old) => ({ ...old, [k]: v }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const parsed = NewUser.safeParse({ ...value, tenant: value.role === "tenant" ? value.tenant : null });
    if (!parsed.success) {
      setErrors(Object.fromEntries(parsed.error.issues.map((i) => [i.path[0], issueText(i)])));
      return;
    }
    setErrors({});
    onSubmit(parsed.data);
  };
  return (
    <form id={USER_FORM_ID} onSubmit={submit} className="flex flex-col gap-3" data-testid="user-form">
      <Field label="Email" htmlFor="u-email" error={errors.email}>
        <Input id="u-email" type="email" value={value.email} onChange={(e) => set("email", e.target.value)} autoFocus />
      </Field>
      <Field label="Name" htmlFor="u-name" error={errors.name}>
        <Input id="u-name" value={value.name} onChange={(e) => set("name", e.target.value)} />
      </Field>
      <Field label="Initial password" htmlFor="u-password" error={errors.password} hint={`At least ${PASSWORD_MIN_LENGTH} characters, not the email address. Give it to the user over a safe channel.`}>
        <div className="flex gap-2">
          <Input id="u-password" className="flex-1 font-mono" value={value.password} onChange={(e) => set("password", e.target.value)} autoComplete="new-password" />
          <Button onClick={() => set("password", generatePassword())}>Generate</Button>
        </div>
      </Field>
      <Field label="Role" htmlFor="u-role" hint={ROLE_HINT[value.role]}>
        <Select id="u-role" value={value.role} onChange={(e) => set("role", e.target.value as Role)}>
          {(Object.keys(ROLE_LABEL) as Role[]).map((r) => (
            <option key={r} value={r}>
              {ROLE_LABEL[r]}
            </option>
          ))}
        </Select>
      </Field>
      {value.role === "tenant" && (
        <Field label="Tenant" htmlFor="u-tenant" error={errors.tenant}>
          <Select id="u-tenant" value={value.tenant ?? ""} onChange={(e) => set("tenant", e.target.value || null)}>
            <option value="">Choose a tenant</option>
            {tenants.map((t) => (
              <option key={t.slug} value={t.slug}>
                {t.name} ({t.slug})
              </option>
            ))}
          </Select>
        </Field>
      )}
    </form>
  );
}
