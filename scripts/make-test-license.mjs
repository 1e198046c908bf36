#!/usr/bin/env node
// Makes a signing key and a license signed with it, to try the agent with a paid tier locally:
//   node scripts/make-test-license.mjs [--tier pro|enterprise|community] [--days 1-3650] [--dir DIR]
// writes DIR/trusted-keys.json (the public key, a JWKS for SOFTCLIENT4ES_LICENSE_PUBLIC_KEYS) and
// DIR/license.jwt (the token), both 0600, and prints how to use them. The private key is not kept:
// it is a test key, never the vendor's. The issuer is the agent's default.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

const { values } = parseArgs({
  options: {
    tier: { type: 'string', default: 'pro' },
    days: { type: 'string', default: '30' },
    dir: { type: 'string', default: 'test-license' },
  },
});
const days = Number(values.days);
if (!['pro', 'enterprise', 'community'].includes(values.tier) || !Number.isInteger(days) || days < 1 || days > 3650) {
  console.error('usage: node scripts/make-test-license.mjs [--tier pro|enterprise|community] [--days 1-3650] [--dir DIR]');
  process.exit(2);
}

const dir = resolve(values.dir);
mkdirSync(dir, { recursive: true, mode: 0o700 });
const kid = `test-${new Date().toISOString().slice(0, 10)}`;
const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
const jwk = { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'EdDSA' };
const now = Math.floor(Date.now() / 1000);
const jwt = await new SignJWT({ tier: values.tier, org_name: 'Test Org', platform: 'DEVELOPMENT', trial: false })
  .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'JWT' })
  .setIssuer('https://license.softclient4es.com')
  .setSubject(`lic-test-${now}`)
  .setIssuedAt(now)
  .setExpirationTime(now + days * 86_400)
  .sign(privateKey);

writeFileSync(join(dir, 'trusted-keys.json'), `${JSON.stringify({ keys: [jwk] }, null, 2)}\n`, { mode: 0o600 });
writeFileSync(join(dir, 'license.jwt'), `${jwt}\n`, { mode: 0o600 });
console.log(`Wrote ${join(dir, 'trusted-keys.json')} and ${join(dir, 'license.jwt')} (${values.tier}, ${days} days, kid ${kid}). Try:
  SOFTCLIENT4ES_LICENSE_PUBLIC_KEYS=${join(dir, 'trusted-keys.json')} SOFTCLIENT4ES_LICENSE_KEY_FILE=${join(dir, 'license.jwt')} npm start
or start with only SOFTCLIENT4ES_LICENSE_PUBLIC_KEYS set and install it with PUT /admin/license.`);
