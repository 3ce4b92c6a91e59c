// Builds the dashboard to static files the Flowstone server answers at `/` (its flowstone.web_dir).
// FLOWSTONE_WEB_OUT names the output folder (CMake sets it to <build>/web); default dist/.
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
  build: {
    outDir: process.env.FLOWSTONE_WEB_OUT || 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000, // elkjs is one large module
  },
});
