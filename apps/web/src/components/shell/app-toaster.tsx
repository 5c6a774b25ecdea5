"use client";
import { Toaster } from "sonner";
import { useDark } from "@/lib/use-dark";

/** Sonner's toaster in the app's current theme (the class on <html>, not only the OS setting). */
export function AppToaster() {
  const dark = useDark();
  return <Toaster position="bottom-right" closeButton richColors theme={dark ? "dark" : "light"} toastOptions={{ className: "text-[13px]" }} />;
}
