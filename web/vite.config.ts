import { defineConfig } from "vite";

// The UI is served by leadenrich-server at "/", the API docs page at "/docs" (docs.html);
// `npm run dev` proxies the API to a server on :8000.
export default defineConfig({
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    rollupOptions: { input: { index: "index.html", docs: "docs.html" } },
  },
  server: {
    proxy: {
      "/api": "http://127.0.0.1:8000",
      "/v1": "http://127.0.0.1:8000",
      "/openapi.json": "http://127.0.0.1:8000",
    },
  },
});
