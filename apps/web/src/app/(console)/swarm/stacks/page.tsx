import type { Metadata } from "next";
import { Suspense } from "react";
import { StacksPage } from "@/features/swarm/stacks-page";

export const metadata: Metadata = { title: "Stacks" };

export default function Page() {
  return (
    <Suspense>
      <StacksPage />
    </Suspense>
  );
}
