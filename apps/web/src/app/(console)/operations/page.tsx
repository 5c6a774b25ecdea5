import type { Metadata } from "next";
import { Suspense } from "react";
import { OperationsPage } from "@/features/operations/operations-page";

export const metadata: Metadata = { title: "Operations" };

export default function Page() {
  return (
    <Suspense>
      <OperationsPage />
    </Suspense>
  );
}
