import { defineConfig } from "vite";

// As the original: the API on port 8000 behind a /api proxy. API_TARGET points it elsewhere;
// API_CHANGE_ORIGIN=1 makes the proxy send the target's Host (http-proxy's changeOrigin).
export default defineConfig({
  server: {
    proxy: {
      "/api": {
        target: process.env.API_TARGET ?? "http://localhost:8000",
        changeOrigin: process.env.API_CHANGE_ORIGIN === "1",
      },
    },
  },
});
