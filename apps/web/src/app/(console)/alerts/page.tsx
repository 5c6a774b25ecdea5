import type { Metadata } from "next";
import { Suspense } from "react";
import { AlertSettingsPage } from "@/features/alerts/alert-settings";

export const metadata: Metadata = { title: "Alerts" };

export default function Page() {
  return (
    <Suspense>
      <AlertSettingsPage />
    </Suspense>
  );
}
