"use client";
import { useSyncExternalStore } from "react";

/** Whether the page is dark right now (the class on <html>, set by the theme choice). */
function subscribe(onChange: () => void) {
  const observer = new MutationObserver(onChange);
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ["class"] });
  return () => observer.disconnect();
}
const isDark = () => document.documentElement.classList.contains("dark");

export const useDark = () => useSyncExternalStore(subscribe, isDark, () => false);
