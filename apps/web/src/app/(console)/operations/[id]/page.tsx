import type { Metadata } from "next";
import { Suspense } from "react";
import { OperationPage } from "@/features/operations/operation-page";

type Props = { params: Promise<{ id: string }> };

export const metadata: Metadata = { title: "Operation" };

export default async function Page({ params }: Props) {
  const { id } = await params;
  return (
    <Suspense>
      <OperationPage id={decodeURIComponent(id)} />
    </Suspense>
  );
}
