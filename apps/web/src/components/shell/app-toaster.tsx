"use client";
import { useRouter } from "next/navigation";
import { useEffect } from "react";
import { Toaster } from "sonner";
import { setToastNavigator } from "@/lib/notify";
import { useDark } from "@/lib/use-dark";

/** Sonner's toaster in the app's current theme (the class on <html>, not only the OS setting). */
export function AppToaster() {
  const dark = useDark();
  const router = useRouter();
  // Toasts link to operations: navigate within the app, not by a full page load.
  useEffect(() => setToastNavigator((href) => router.push(href)), [router]);
  return <Toaster position="bottom-right" closeButton richColors theme={dark ? "dark" : "light"} toastOptions={{ className: "text-[13px]" }} />;
}
