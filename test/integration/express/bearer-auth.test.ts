import { describe, expect, it } from '@jest/globals';
import express, { type Express } from 'express';
import request from 'supertest';
import { requireBearerToken } from '../../../src/adapters/express/bearer-auth.js';

const TOKEN = 'admin-token-0123456789abcdef';
const WWW_AUTHENTICATE = 'Bearer realm="softclient4es-admin"';
const UNAUTHORIZED = { error: 'unauthorized', message: 'a valid admin bearer token is required' };

/** A real Express app whose only route answers 200 `{ ok: true }` once the bearer check passes. */
function appWith(expectedToken: () => string | null): Express {
  const app = express();
  app.use(requireBearerToken(expectedToken));
  app.get('/guarded', (_req, res) => {
    res.json({ ok: true });
  });
  return app;
}

async function call(app: Express, authorization: string | undefined) {
  const pending = request(app).get('/guarded');
  return authorization === undefined ? pending : pending.set('Authorization', authorization);
}

async function expectRefused(app: Express, authorization: string | undefined): Promise<void> {
  const response = await call(app, authorization);
  expect(response.status).toBe(401);
  expect(response.headers['www-authenticate']).toBe(WWW_AUTHENTICATE);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  expect(response.body).toEqual(UNAUTHORIZED);
}

async function expectAdmitted(app: Express, authorization: string): Promise<void> {
  const response = await call(app, authorization);
  expect(response.status).toBe(200);
  expect(response.body).toEqual({ ok: true });
  expect(response.headers['www-authenticate']).toBeUndefined();
}

describe('requireBearerToken', () => {
  const app = appWith(() => TOKEN);

  it('admits `Bearer <token>` with the configured token', async () => {
    await expectAdmitted(app, `Bearer ${TOKEN}`);
  });

  it('refuses a call without an Authorization header, with 401, the challenge and a JSON body', async () => {
    await expectRefused(app, undefined);
  });

  it('refuses an empty Authorization header and a bare scheme', async () => {
    await expectRefused(app, '');
    await expectRefused(app, 'Bearer');
    await expectRefused(app, 'Bearer ');
  });

  describe('when no admin token is configured', () => {
    const locked = appWith(() => null);

    it.each([
      ['without a header', undefined],
      ['with an empty header', ''],
      ['with a bearer token', `Bearer ${TOKEN}`],
      ['with the text "null" as token', 'Bearer null'],
    ])('refuses every call (%s)', async (_label, authorization) => {
      await expectRefused(locked, authorization);
    });
  });

  it('asks for the expected token on every call (a changed token takes effect at once)', async () => {
    let current: string | null = 'first-token';
    const rotating = appWith(() => current);
    await expectAdmitted(rotating, 'Bearer first-token');
    current = 'second-token';
    await expectRefused(rotating, 'Bearer first-token');
    await expectAdmitted(rotating, 'Bearer second-token');
    current = null;
    await expectRefused(rotating, 'Bearer second-token');
  });

  describe('the scheme', () => {
    it('must start the header: text before `Bearer` is refused', async () => {
      await expectRefused(app, `xBearer ${TOKEN}`);
      await expectRefused(app, `Token Bearer ${TOKEN}`);
    });

    it('must be Bearer: Basic or another scheme with the right token is refused', async () => {
      await expectRefused(app, `Basic ${TOKEN}`);
      await expectRefused(app, `Bearerx ${TOKEN}`);
      await expectRefused(app, `Bear ${TOKEN}`);
      await expectRefused(app, TOKEN);
    });

    it('is matched whatever its case', async () => {
      await expectAdmitted(app, `bearer ${TOKEN}`);
      await expectAdmitted(app, `BEARER ${TOKEN}`);
      await expectAdmitted(app, `BeArEr ${TOKEN}`);
    });

    it('must be followed by at least one space, and only spaces', async () => {
      await expectRefused(app, `Bearer${TOKEN}`);
      await expectRefused(app, `Bearer\t${TOKEN}`);
    });
  });

  describe('the spaces around the token', () => {
    it('admits several spaces between scheme and token', async () => {
      await expectAdmitted(app, `Bearer  ${TOKEN}`);
      await expectAdmitted(app, `Bearer     ${TOKEN}`);
    });

    it('admits trailing spaces after the token (HTTP trims them before Express sees them)', async () => {
      await expectAdmitted(app, `Bearer ${TOKEN} `);
      await expectAdmitted(app, `Bearer ${TOKEN}   `);
    });

    it('refuses a token with a space inside it, and anything after the token', async () => {
      const spaced = appWith(() => 'two words');
      await expectRefused(spaced, 'Bearer two words');
      await expectRefused(app, `Bearer ${TOKEN} ${TOKEN}`);
      await expectRefused(app, `Bearer ${TOKEN} x`);
    });
  });

  describe('the token', () => {
    it('refuses a wrong token of the same length', async () => {
      const sameLength = `${TOKEN.slice(0, -1)}${TOKEN.endsWith('f') ? 'e' : 'f'}`;
      expect(sameLength).toHaveLength(TOKEN.length);
      await expectRefused(app, `Bearer ${sameLength}`);
    });

    it('refuses a wrong token of another length: a prefix, an extension, something else', async () => {
      await expectRefused(app, `Bearer ${TOKEN.slice(0, -1)}`);
      await expectRefused(app, `Bearer ${TOKEN}x`);
      await expectRefused(app, 'Bearer wrong');
    });

    it('compares the token as it is, case included', async () => {
      await expectRefused(app, `Bearer ${TOKEN.toUpperCase()}`);
    });
  });

  it('does not echo the provided or expected token in the refusal', async () => {
    const response = await call(app, 'Bearer wrong-token-value');
    expect(response.status).toBe(401);
    expect(response.text).not.toContain('wrong-token-value');
    expect(response.text).not.toContain(TOKEN);
  });
});
