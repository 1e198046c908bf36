import type { ResolveHook } from 'node:module';

// tsc compiles the bench together with the src/ files it imports (it type-checks against them),
// but the bench must measure the package that `npm run build` put in dist/ — the code `npm start`
// runs — and src/app/paths.ts finds package.json and the bundled keys relative to dist/app/.
// So every module under the bench's compiled copy of src/ is loaded from dist/ instead.
const COMPILED_SRC = new URL('../src/', import.meta.url).href;
const BUILT_PACKAGE = new URL('../../dist/', import.meta.url).href;

export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  const resolved = await nextResolve(specifier, context);
  if (!resolved.url.startsWith(COMPILED_SRC)) return resolved;
  return { ...resolved, url: BUILT_PACKAGE + resolved.url.slice(COMPILED_SRC.length) };
};
