import type { Metadata } from "next";
import { Suspense } from "react";
import { LoadBalancersPage } from "@/features/load-balancers/lb-page";

export const metadata: Metadata = { title: "Load balancers" };

export default function Page() {
  return (
    <Suspense>
      <LoadBalancersPage />
    </Suspense>
  );
}
