"use client";
import { useSyncExternalStore } from "react";
import { Toaster } from "sonner";

/** Sonner's toaster in the app's current theme (the class on <html>, not only the OS setting). */
function subscribe(onChange: () => void) {
  const observer = new MutationObserver(onChange);
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ["class"] });
  return () => observer.disconnect();
}
const isDark = () => document.documentElement.classList.contains("dark");

export function AppToaster() {
  const dark = useSyncExternalStore(subscribe, isDark, () => false);
  return <Toaster position="bottom-right" closeButton richColors theme={dark ? "dark" : "light"} toastOptions={{ className: "text-[13px]" }} />;
}
