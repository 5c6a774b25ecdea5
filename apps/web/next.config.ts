import type { NextConfig } from "next";

// Served by apps/server's custom Node server (one origin for pages, /api/trpc and /api/auth),
// which is why there is no `output: 'standalone'` and no app/api route here.
const config: NextConfig = {
  transpilePackages: ["@nimbus/domain"],
  // `next dev` reached via 127.0.0.1 (tests, screenshots) is otherwise refused as cross-origin.
  allowedDevOrigins: ["127.0.0.1"],
  poweredByHeader: false,
  // Workspace packages are TypeScript source imported with NodeNext-style ".js" suffixes.
  // Webpack maps those to the .ts files; Turbopack cannot yet (vercel/next.js#82945), which is
  // why `build` runs `next build --webpack`.
  experimental: { extensionAlias: { ".js": [".ts", ".tsx", ".js"] } },
  reactStrictMode: true,
};

export default config;
