import type { Metadata, Viewport } from "next";
import { headers } from "next/headers";
import type { ReactNode } from "react";
import { THEME_SCRIPT } from "@/lib/theme";
import { Providers } from "./providers";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Nimbus", template: "%s · Nimbus" },
  description: "Console for a small private cloud: KVM hosts, networks, storage and swarm.",
};

export const viewport: Viewport = {
  width: "device-width",
  initialScale: 1,
  themeColor: [
    { media: "(prefers-color-scheme: light)", color: "#f7f7f8" },
    { media: "(prefers-color-scheme: dark)", color: "#111114" },
  ],
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  // The server gives each page request a CSP nonce (apps/server/src/http/csp.ts); reading it
  // also renders every page per request, as nonces require.
  const nonce = (await headers()).get("x-nonce") ?? undefined;
  return (
    // The theme script sets class="dark" before React hydrates; that difference is expected.
    <html lang="en" suppressHydrationWarning>
      <head>
        <script nonce={nonce} dangerouslySetInnerHTML={{ __html: THEME_SCRIPT }} />
      </head>
      <body>
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
