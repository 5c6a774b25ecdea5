import type { Metadata } from "next";
import { Suspense } from "react";
import { CreateInstancePage } from "@/features/provision/create-page";

export const metadata: Metadata = { title: "New instance" };

export default function Page() {
  return (
    <Suspense>
      <CreateInstancePage />
    </Suspense>
  );
}
