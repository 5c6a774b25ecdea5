import type { Metadata } from "next";
import { LabPage } from "@/features/admin/lab-page";

export const metadata: Metadata = { title: "Lab faults" };

export default function Page() {
  return <LabPage />;
}
