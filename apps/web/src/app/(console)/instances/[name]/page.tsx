import type { Metadata } from "next";
import { Suspense } from "react";
import { InstancePage } from "@/features/instances/instance-page";

type Props = { params: Promise<{ name: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: decodeURIComponent((await params).name) };
}

export default async function Page({ params }: Props) {
  const { name } = await params;
  return (
    <Suspense>
      <InstancePage name={decodeURIComponent(name)} />
    </Suspense>
  );
}
