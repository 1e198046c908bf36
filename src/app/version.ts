import { readFileSync } from 'node:fs';
import { PACKAGE_JSON_PATH } from './paths.js';

/** The agent's version, from package.json (sent to the license backend). */
export const AGENT_VERSION: string = (JSON.parse(readFileSync(PACKAGE_JSON_PATH, 'utf8')) as { version: string }).version;
