/**
 * The Inertia page resolver: `Escalated/<path>` names map to the package's
 * `src/pages/<path>.vue`, `EscalatedDjango/<name>` to this adapter's own pages (the ones the
 * Django side needs and the package lacks); any other name goes to the host's own pages.
 *
 * Both maps come from the host's `import.meta.glob(...)` (eager or lazy), because only the
 * host's bundler can see the files: a glob inside this package would not be expanded when the
 * package is installed from the registry or linked.
 */

export const PAGE_PREFIX = 'Escalated/';
export const ADAPTER_PAGE_PREFIX = 'EscalatedDjango/';

// Static imports, so that the host's bundler sees (and splits out) each page.
const ADAPTER_PAGES = {
    '/Unavailable.vue': () => import('./pages/Unavailable.vue'),
};

// The shortest key ending in the path, so that `Dashboard` is `Pages/Dashboard.vue` and not
// `Pages/Agent/Dashboard.vue`.
function byPath(modules, path) {
    const [key] = Object.keys(modules)
        .filter((candidate) => candidate.endsWith(path))
        .sort((a, b) => a.length - b.length);
    return key === undefined ? undefined : modules[key];
}

async function load(entry) {
    const module = typeof entry === 'function' ? await entry() : entry;
    return module?.default ?? module;
}

/**
 * @param {Record<string, unknown>} escalatedPages
 *     `import.meta.glob('<node_modules>/@escalated-dev/escalated/src/pages/**\/*.vue')`
 * @param {Record<string, unknown>} [hostPages]
 *     the host's own pages, keyed by a path ending in `/<name>.vue`
 * @returns {(name: string) => Promise<object>} a `resolve` for `createInertiaApp`
 */
export function resolveEscalatedPage(escalatedPages, hostPages = {}) {
    return async function resolve(name) {
        if (name.startsWith(ADAPTER_PAGE_PREFIX)) {
            const path = `/${name.slice(ADAPTER_PAGE_PREFIX.length)}.vue`;
            if (!(path in ADAPTER_PAGES)) {
                throw new Error(`[escalated] the adapter has no page '${name}'.`);
            }
            return load(ADAPTER_PAGES[path]);
        }
        const fromPackage = name.startsWith(PAGE_PREFIX);
        const path = fromPackage
            ? `/src/pages/${name.slice(PAGE_PREFIX.length)}.vue`
            : `/${name}.vue`;
        const entry = byPath(fromPackage ? escalatedPages : hostPages, path);
        if (entry === undefined) {
            throw new Error(
                `[escalated] no page component for '${name}' (looked for a file ending in ${path}).`,
            );
        }
        return load(entry);
    };
}
