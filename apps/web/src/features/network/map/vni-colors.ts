/**
 * One colour per VNI, stable across renders and sessions, readable on light and dark. The VNI
 * number is always printed next to the colour as well.
 */
const PALETTE = ["#3b82f6", "#10b981", "#f59e0b", "#ef4444", "#8b5cf6", "#06b6d4", "#ec4899", "#84cc16", "#f97316", "#14b8a6"];

export const vniColor = (vni: number) => PALETTE[((vni % PALETTE.length) + PALETTE.length) % PALETTE.length]!;
