import type { Tone } from "@/lib/status";

/** Colours per tone; the text label next to them carries the meaning. */
export const toneText: Record<Tone, string> = {
  ok: "text-ok",
  warn: "text-warn",
  crit: "text-crit",
  unknown: "text-unknown",
  neutral: "text-muted",
  accent: "text-accent",
};
export const toneSoft: Record<Tone, string> = {
  ok: "bg-ok-soft text-ok",
  warn: "bg-warn-soft text-warn",
  crit: "bg-crit-soft text-crit",
  unknown: "bg-unknown-soft text-unknown",
  neutral: "bg-panel-2 text-muted",
  accent: "bg-accent-soft text-accent",
};
export const toneFill: Record<Tone, string> = {
  ok: "bg-ok",
  warn: "bg-warn",
  crit: "bg-crit",
  unknown: "bg-unknown",
  neutral: "bg-faint",
  accent: "bg-accent",
};
