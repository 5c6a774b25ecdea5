"use client";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { createColumnHelper } from "@tanstack/react-table";
import { useState } from "react";
import { DataTable } from "@/components/table/data-table";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { Dialog } from "@/components/ui/dialog";
import { SearchInput, Select } from "@/components/ui/field";
import { ActionMenu } from "@/components/ui/menu";
import { PageHeader } from "@/components/ui/panel";
import { StatusBadge, Tag } from "@/components/ui/status-badge";
import { RelativeTime } from "@/components/ui/time";
import { Toolbar, countLabel } from "@/components/ui/toolbar";
import { errorInfo } from "@/lib/errors";
import { notify } from "@/lib/notify";
import { useSession } from "@/lib/session";
import { useTRPC } from "@/lib/trpc";
import { useUrlParam } from "@/lib/url-state";
import { useUrlSort } from "@/lib/url-sort";
import { ROLE_LABEL, type Role, type UserRow } from "./types";
import { USER_FORM_ID, UserForm } from "./user-form";
import { useAction } from "@/lib/use-action";

const col = createColumnHelper<UserRow>();

export function UsersPage() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const me = useSession();
  const users = useQuery(trpc.admin.users.list.queryOptions());
  const tenants = useQuery(trpc.admin.tenants.list.queryOptions());
  const [q, setQ] = useUrlParam("q");
  const [role, setRole] = useUrlParam("role");
  const [sorting, setSorting] = useUrlSort([{ id: "name", desc: false }]);
  const [creating, setCreating] = useState(false);
  const [resetting, setResetting] = useState<UserRow | null>(null);
  const [newPassword, setNewPassword] = useState<{ user: UserRow; password: string } | null>(null);
  const [editingRole, setEditingRole] = useState<UserRow | null>(null);
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.admin.users.list.queryKey() });

  const create = useAction(
    trpc.admin.users.create.mutationOptions({
      onSuccess: (u) => {
        setCreating(false);
        notify.ok(`${u.email} can now sign in`);
        void refresh();
      },
    }),
  );
  const reset = useAction(
    trpc.admin.users.resetPassword.mutationOptions({
      onSuccess: (r, v) => {
        const user = users.data?.find((u) => u.id === v.userId);
        setResetting(null);
        if (user) setNewPassword({ user, password: r.password });
      },
      onError: (e) => notify.error(e, "Reset password"),
    }),
  );
  const disable = useAction(
    trpc.admin.users.setDisabled.mutationOptions({
      onSuccess: (u) => {
        notify.ok(u.disabled ? `${u.email} is disabled and signed out` : `${u.email} is enabled`);
        void refresh();
      },
      onError: (e) => notify.error(e),
    }),
  );
  const setUserRole = useAction(
    trpc.admin.users.setRole.mutationOptions({
      onSuccess: (u) => {
        setEditingRole(null);
        notify.ok(`${u.email} is now ${ROLE_LABEL[u.role]}`);
        void refresh();
      },
      onError: (e) => notify.error(e, "Change role"),
    }),
  );

  const needle = q.toLowerCase();
  const shown = users.data?.filter((u) => (!role || u.role === role) && (!needle || `${u.name} ${u.email} ${u.tenant ?? ""}`.toLowerCase().includes(needle)));

  const columns = [
    col.accessor("name", { header: "Name", cell: (c) => <span className="font-medium">{c.getValue()}</span> }),
    col.accessor("email", { header: "Email" }),
    col.accessor("role", { header: "Role", cell: (c) => <Tag>{ROLE_LABEL[c.getValue()]}</Tag> }),
    col.accessor((u) => u.tenant ?? "", { id: "tenant", header: "Tenant", cell: (c) => c.getValue() || <span className="text-faint">—</span> }),
    col.accessor("disabled", {
      header: "Status",
      cell: (c) => <StatusBadge status={c.getValue() ? { tone: "neutral", label: "Disabled" } : { tone: "ok", label: "Active" }} />,
    }),
    col.accessor("createdAt", { header: "Created", meta: { hideBelow: "md" }, cell: (c) => <RelativeTime iso={c.getValue()} /> }),
    col.display({
      id: "actions",
      header: () => <span className="sr-only">Actions</span>,
      cell: (c) => {
        const u = c.row.original;
        const self = u.id === me?.user.id;
        return (
          <ActionMenu
            label={`Actions for ${u.email}`}
            items={[
              { label: "Change role…", onSelect: () => setEditingRole(u), disabled: self },
              { label: "Reset password…", onSelect: () => setResetting(u) },
              { label: u.disabled ? "Enable" : "Disable", onSelect: () => disable.mutate({ userId: u.id, disabled: !u.disabled }), danger: !u.disabled, disabled: self },
            ]}
          />
        );
      },
    }),
  ];

  return (
    <>
      <PageHeader
        title="Users"
        description="Who may sign in, and with which role."
        actions={
          <Button variant="primary" onClick={() => setCreating(true)} data-testid="new-user">
            New user
          </Button>
        }
      />
      <Toolbar count={countLabel(shown?.length, users.data?.length, "users")}>
        <SearchInput value={q} onChange={setQ} placeholder="Search name, email, tenant" label="Search users" />
        <Select aria-label="Role" value={role} onChange={(e) => setRole(e.target.value)}>
          <option value="">Any role</option>
          {(Object.keys(ROLE_LABEL) as Role[]).map((r) => (
            <option key={r} value={r}>
              {ROLE_LABEL[r]}
            </option>
          ))}
        </Select>
      </Toolbar>
      <DataTable
        testId="users-table"
        data={shown}
        columns={columns}
        getRowId={(u) => u.id}
        rowTestId={(u) => `user-row-${u.email}`}
        isLoading={users.isPending}
        error={users.error}
        onRetry={() => void users.refetch()}
        sorting={sorting}
        onSortingChange={setSorting}
        emptyTitle={q || role ? "No users match" : "No users"}
      />

      <Dialog
        open={creating}
        onOpenChange={(o) => {
          if (!o) create.reset();
          setCreating(o);
        }}
        title="New user"
        testId="new-user-dialog"
        footer={
          <>
            <Button onClick={() => setCreating(false)}>Cancel</Button>
            <Button type="submit" form={USER_FORM_ID} variant="primary" busy={create.isPending} data-testid="create-user">
              Create user
            </Button>
          </>
        }
      >
        <UserForm tenants={tenants.data ?? []} onSubmit={(u) => create.mutate(u)} />
        {create.error && (
          <p role="alert" className="mt-3 rounded-md bg-crit-soft px-3 py-2 text-[13px] text-crit">
            {errorInfo(create.error).message}
          </p>
        )}
      </Dialog>

      <RoleDialog
        user={editingRole}
        tenants={tenants.data ?? []}
        busy={setUserRole.isPending}
        onCancel={() => setEditingRole(null)}
        onSave={(r, t) => editingRole && setUserRole.mutate({ userId: editingRole.id, role: r, tenant: t })}
      />

      <ConfirmDialog
        open={resetting !== null}
        title={`Reset the password of ${resetting?.email ?? ""}?`}
        confirmLabel="Reset password"
        busy={reset.isPending}
        onCancel={() => setResetting(null)}
        onConfirm={() => resetting && reset.mutate({ userId: resetting.id })}
      >
        A new password is generated and shown once. The old one stops working at once.
      </ConfirmDialog>

      <Dialog open={newPassword !== null} onOpenChange={(o) => !o && setNewPassword(null)} title={`New password for ${newPassword?.user.email ?? ""}`} footer={<Button onClick={() => setNewPassword(null)}>Done</Button>}>
        <p className="text-[13px]">Shown only now. Hand it over safely; the user should change it after signing in.</p>
        <p className="mt-3 select-all break-all rounded-md bg-panel-2 px-3 py-2 font-mono text-[14px]" data-testid="new-password">
          {newPassword?.password}
        </p>
      </Dialog>
    </>
  );
}

function RoleDialog({
  user,
  tenants,
  busy,
  onCancel,
  onSave,
}: {
  user: UserRow | null;
  tenants: { slug: string; name: string }[];
  busy: boolean;
  onCancel: () => void;
  onSave: (role: Role, tenant: string | null) => void;
}) {
  const [role, setRole] = useState<Role>("operator");
  const [tenant, setTenant] = useState("");
  const [shownFor, setShownFor] = useState<string | null>(null);
  if (user && shownFor !== user.id) {
    setShownFor(user.id);
    setRole(user.role);
    setTenant(user.tenant ?? "");
  }
  const invalid = role === "tenant" && !tenant;
  return (
    <Dialog
      open={user !== null}
      onOpenChange={(o) => !o && onCancel()}
      title={`Role of ${user?.email ?? ""}`}
      footer={
        <>
          <Button onClick={onCancel}>Cancel</Button>
          <Button variant="primary" busy={busy} disabled={invalid} onClick={() => onSave(role, role === "tenant" ? tenant : null)}>
            Save
          </Button>
        </>
      }
    >
      <div className="flex flex-col gap-3">
        <Select aria-label="Role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
          {(Object.keys(ROLE_LABEL) as Role[]).map((r) => (
            <option key={r} value={r}>
              {ROLE_LABEL[r]}
            </option>
          ))}
        </Select>
        {role === "tenant" && (
          <Select aria-label="Tenant" value={tenant} onChange={(e) => setTenant(e.target.value)}>
            <option value="">Choose a tenant</option>
            {tenants.map((t) => (
              <option key={t.slug} value={t.slug}>
                {t.name}
              </option>
            ))}
          </Select>
        )}
      </div>
    </Dialog>
  );
}
