import type { Metadata } from "next";
import { Suspense } from "react";
import { ServicePage } from "@/features/swarm/service-page";

type Props = { params: Promise<{ name: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: decodeURIComponent((await params).name) };
}

export default async function Page({ params }: Props) {
  const { name } = await params;
  return (
    <Suspense>
      <ServicePage name={decodeURIComponent(name)} />
    </Suspense>
  );
}
