/**
 * The baseline of the start-up bench: a bare Express app serving one route and `/readyz`, started
 * exactly like the example host (`node <script>`, PORT and HOST from the environment) and
 * announcing itself with the same `Listening on` line, so that `bench/start-up-cost.ts` times both
 * the same way.
 */
import express from 'express';
import type { AddressInfo } from 'node:net';

const app = express();
app.get('/demo/query', (_req, res) => {
  res.json({ rows: 0 });
});
app.get('/readyz', (_req, res) => {
  res.json({ status: 'ready' });
});
const server = app.listen(Number(process.env.PORT ?? 8080), process.env.HOST ?? '127.0.0.1', () => {
  const { address, port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ msg: `Listening on http://${address}:${port}` })}\n`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
