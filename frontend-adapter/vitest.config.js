import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vitest/config';

// The plugin lets the tests load the package's real .vue pages and its EscalatedPlugin.
export default defineConfig({
    plugins: [vue()],
    test: {
        environment: 'happy-dom',
        include: ['test/**/*.test.js'],
        // The package ships sources (.vue, JSON imports): let Vite transform them.
        server: { deps: { inline: [/@escalated-dev\/escalated/] } },
    },
});
