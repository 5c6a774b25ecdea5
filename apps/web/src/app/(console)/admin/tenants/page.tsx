import type { Metadata } from "next";
import { Suspense } from "react";
import { TenantsPage } from "@/features/admin/tenants-page";

export const metadata: Metadata = { title: "Tenants" };

export default function Page() {
  return (
    <Suspense>
      <TenantsPage />
    </Suspense>
  );
}
