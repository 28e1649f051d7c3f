// The demo's support pages: the shared Escalated Vue pages, built into dist/ for Django's
// staticfiles (demo/settings.py serves dist/ under STATIC_URL + "escalated-demo/", and
// demo/templates/escalated_demo/app.html reads dist/.vite/manifest.json).
import tailwindcss from '@tailwindcss/vite';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

export default defineConfig({
    plugins: [vue(), tailwindcss()],
    base: '/static/escalated-demo/',
    build: {
        outDir: 'dist',
        emptyOutDir: true,
        manifest: true,
        rollupOptions: { input: 'src/main.js' },
    },
});
