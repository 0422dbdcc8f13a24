import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// `npm run dev` proxies the API to a running `couture standalone` (COUTURE_API, default :8080).
const api = process.env.COUTURE_API ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", chunkSizeWarningLimit: 900 },
  server: { proxy: { "/api": api, "/auth": api } },
  test: { environment: "node", include: ["src/**/*.test.ts"] },
});
