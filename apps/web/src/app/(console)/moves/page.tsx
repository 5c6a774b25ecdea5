import type { Metadata } from "next";
import { Suspense } from "react";
import { MovesPage } from "@/features/moves/moves-page";

export const metadata: Metadata = { title: "Moves" };

export default function Page() {
  return (
    <Suspense>
      <MovesPage />
    </Suspense>
  );
}
