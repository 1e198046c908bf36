import { register } from 'node:module';

/** `node --import` this module before the bench: src/ imports then load dist/ (see built-package-hooks.ts). */
register('./built-package-hooks.js', import.meta.url);
