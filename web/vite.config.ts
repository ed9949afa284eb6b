import { defineConfig } from "vite";

// The UI is served by leadenrich-server at "/"; `npm run dev` proxies the API to a server on :8000.
export default defineConfig({
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false },
  server: { proxy: { "/api": "http://127.0.0.1:8000" } },
});
