"use client";
import { Laptop, Moon, Sun } from "lucide-react";
import { useEffect, useState } from "react";
import { applyTheme, readTheme, storeTheme, type ThemeChoice } from "@/lib/theme";

const next: Record<ThemeChoice, ThemeChoice> = { system: "light", light: "dark", dark: "system" };
const labels: Record<ThemeChoice, string> = { system: "Theme: system", light: "Theme: light", dark: "Theme: dark" };

/** Cycles system → light → dark. While on "system", follows the OS switching live. */
export function ThemeToggle() {
  const [choice, setChoice] = useState<ThemeChoice>("system");
  useEffect(() => setChoice(readTheme()), []);
  useEffect(() => {
    if (choice !== "system") return;
    const mq = window.matchMedia("(prefers-color-scheme: dark)");
    const onChange = () => applyTheme("system");
    mq.addEventListener("change", onChange);
    return () => mq.removeEventListener("change", onChange);
  }, [choice]);
  const Icon = choice === "dark" ? Moon : choice === "light" ? Sun : Laptop;
  return (
    <button
      type="button"
      data-testid="theme-toggle"
      onClick={() => {
        const value = next[choice];
        storeTheme(value);
        setChoice(value);
      }}
      title={`${labels[choice]} (click to change)`}
      aria-label={`${labels[choice]}; switch to ${next[choice]}`}
      className="inline-flex size-8 items-center justify-center rounded-md text-muted hover:bg-panel-2 hover:text-fg"
    >
      <Icon aria-hidden className="size-4" />
    </button>
  );
}
