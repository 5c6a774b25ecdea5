import type { Metadata } from "next";
import { Suspense } from "react";
import { SwarmPage } from "@/features/swarm/swarm-page";

export const metadata: Metadata = { title: "Swarm" };

export default function Page() {
  return (
    <Suspense>
      <SwarmPage />
    </Suspense>
  );
}
