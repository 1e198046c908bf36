import { hostVariables } from '../../src/app/host-config.js';
import { describe, expect, it } from '@jest/globals';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { createLicenseAgent } from '../../src/app/create-license-agent.js';
import { createHostApp } from '../../src/app/host-server.js';
import { AgentEnvironment } from '../support/agent-environment.js';
import { RecordingLogger } from '../support/recording-logger.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const KUBERNETES_DIR = `${ROOT}deploy/kubernetes/`;
const DOCKERFILE = `${ROOT}deploy/docker/Dockerfile`;

/**
 * The variables the agent reads: every name src/app/config.ts hands to `read` (directly or through
 * its `url`, `duration` and `parse` helpers), plus what the example host reads (DESIGN §5). Derived
 * from the source, so that a manifest naming a variable the agent does not know (a typo, a variable
 * of another product) fails here.
 */
/** What the example host and its agent read, as recorded by their own environment parser. */
function agentVariables(): ReadonlySet<string> {
  return hostVariables();
}

interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly labels?: Record<string, string> };
  readonly [field: string]: unknown;
}

interface KeyRef {
  readonly name: string;
  readonly key: string;
  readonly optional?: boolean;
}

interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: { readonly secretKeyRef?: KeyRef; readonly configMapKeyRef?: KeyRef };
}

interface Probe {
  readonly httpGet: { readonly path: string; readonly port: string | number };
}

interface Container {
  readonly name: string;
  readonly ports: readonly { readonly name: string; readonly containerPort: number }[];
  readonly env: readonly EnvVar[];
  readonly envFrom?: readonly unknown[];
  readonly volumeMounts: readonly { readonly name: string; readonly mountPath: string }[];
  readonly securityContext: { readonly readOnlyRootFilesystem?: boolean; readonly allowPrivilegeEscalation?: boolean };
  readonly livenessProbe: Probe;
  readonly readinessProbe: Probe;
}

interface PodSpec {
  readonly securityContext: { readonly runAsNonRoot?: boolean };
  readonly containers: readonly Container[];
  readonly volumes: readonly { readonly name: string; readonly persistentVolumeClaim?: { readonly claimName: string } }[];
}

function manifestFiles(): string[] {
  return readdirSync(KUBERNETES_DIR).filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml').sort();
}

function loadManifests(): Manifest[] {
  return manifestFiles().flatMap((file) =>
    parseAllDocuments(readFileSync(`${KUBERNETES_DIR}${file}`, 'utf8')).map((document) => {
      if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0]?.message}`);
      return document.toJS() as Manifest;
    }),
  );
}

const manifests = loadManifests();
const one = (kind: string): Manifest => {
  const found = manifests.filter((manifest) => manifest.kind === kind);
  expect(found.map((manifest) => manifest.kind)).toEqual([kind]);
  return found[0] as Manifest;
};
const podSpec = () => (one('Deployment') as unknown as { spec: { template: { metadata: { labels: Record<string, string> }; spec: PodSpec } } }).spec.template;

/** Dockerfile instructions, continuation lines joined, comments dropped. */
function dockerfileInstructions(): { readonly op: string; readonly args: string }[] {
  const text = readFileSync(DOCKERFILE, 'utf8').replace(/\\\n/g, ' ');
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [op = '', ...rest] = line.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

describe('deploy/kubernetes', () => {
  it('parses: every document is a Kubernetes object with a name, and kustomization.yaml lists every file', () => {
    expect(manifests.length).toBeGreaterThanOrEqual(7);
    for (const manifest of manifests) {
      expect(manifest).toEqual(expect.objectContaining({ apiVersion: expect.any(String), kind: expect.any(String), metadata: expect.objectContaining({ name: expect.any(String) }) }));
    }
    const kustomization = parse(readFileSync(`${KUBERNETES_DIR}kustomization.yaml`, 'utf8')) as { resources: string[] };
    expect([...kustomization.resources].sort()).toEqual(manifestFiles());
    expect(manifests.map((manifest) => manifest.kind).sort()).toEqual(
      ['ConfigMap', 'Deployment', 'PersistentVolumeClaim', 'PrometheusRule', 'Secret', 'Service', 'ServiceMonitor'].sort(),
    );
  });

  it('sets only variables the agent reads', () => {
    const known = agentVariables();
    expect([...known]).toEqual(expect.arrayContaining(['SOFTCLIENT4ES_API_KEY', 'SOFTCLIENT4ES_LICENSE_KEY', 'SOFTCLIENT4ES_LICENSE_PUBLIC_KEY', 'SOFTCLIENT4ES_LICENSE_CACHE_DIR']));
    const [container] = podSpec().spec.containers;
    expect(container?.envFrom).toBeUndefined(); // every variable is named, so that this test sees it
    const named = container?.env.map((variable) => variable.name) ?? [];
    expect(named.filter((name) => !known.has(name))).toEqual([]);
    expect(new Set(named).size).toBe(named.length);
  });

  it('takes license-key and api-key from the Secret and the one public key from SOFTCLIENT4ES_LICENSE_PUBLIC_KEY', () => {
    const secret = one('Secret') as Manifest & { stringData: Record<string, string> };
    const configMap = one('ConfigMap') as Manifest & { data: Record<string, string> };
    const env = podSpec().spec.containers[0]?.env ?? [];
    const from = (name: string) => env.find((variable) => variable.name === name)?.valueFrom;
    expect(from('SOFTCLIENT4ES_LICENSE_KEY')?.secretKeyRef).toEqual({ name: secret.metadata.name, key: 'license-key', optional: true });
    expect(from('SOFTCLIENT4ES_API_KEY')?.secretKeyRef).toEqual({ name: secret.metadata.name, key: 'api-key', optional: true });
    expect(Object.keys(secret.stringData)).toEqual(expect.arrayContaining(['license-key', 'api-key']));
    expect(from('SOFTCLIENT4ES_LICENSE_PUBLIC_KEY')?.configMapKeyRef).toMatchObject({ name: configMap.metadata.name, key: 'public-key' });
    // Every reference names an object of these manifests, and a key it holds unless it is optional.
    for (const { valueFrom } of env) {
      const secretRef = valueFrom?.secretKeyRef;
      const configRef = valueFrom?.configMapKeyRef;
      if (secretRef) {
        expect(secretRef.name).toBe(secret.metadata.name);
        if (secretRef.optional !== true) expect(Object.keys(secret.stringData)).toContain(secretRef.key);
      }
      if (configRef) {
        expect(configRef.name).toBe(configMap.metadata.name);
        if (configRef.optional !== true) expect(Object.keys(configMap.data)).toContain(configRef.key);
      }
    }
  });

  it('runs as non-root on a read-only root filesystem, with the cache directory on a volume', () => {
    const { spec } = podSpec();
    const [container] = spec.containers;
    expect(spec.securityContext.runAsNonRoot).toBe(true);
    expect(container?.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    const cacheDir = container?.env.find((variable) => variable.name === 'SOFTCLIENT4ES_LICENSE_CACHE_DIR')?.value ?? '';
    const mount = container?.volumeMounts.find((candidate) => cacheDir === candidate.mountPath || cacheDir.startsWith(`${candidate.mountPath}/`));
    expect(mount).toBeDefined();
    const volume = spec.volumes.find((candidate) => candidate.name === mount?.name);
    expect(volume?.persistentVolumeClaim?.claimName).toBe(one('PersistentVolumeClaim').metadata.name);
    expect(container?.env.find((variable) => variable.name === 'HOST')?.value).toBe('0.0.0.0');
  });

  it('probes /healthz (liveness) and /readyz (readiness) on the container port', () => {
    const [container] = podSpec().spec.containers;
    const ports = container?.ports.map((port) => port.name) ?? [];
    expect(container?.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container?.readinessProbe.httpGet.path).toBe('/readyz');
    expect(ports).toContain(container?.livenessProbe.httpGet.port);
    expect(ports).toContain(container?.readinessProbe.httpGet.port);
  });

  it('scrapes /metrics through a ServiceMonitor that selects the Service, which selects the pods', () => {
    const template = podSpec();
    const service = one('Service') as Manifest & { spec: { selector: Record<string, string>; ports: { name: string; targetPort: string }[] } };
    const monitor = one('ServiceMonitor') as Manifest & { spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[] } };
    expect(template.metadata.labels).toMatchObject(service.spec.selector);
    expect(service.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
    expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: service.spec.ports[0]?.name, path: '/metrics' })]);
    expect(template.spec.containers[0]?.ports.map((port) => port.name)).toContain(service.spec.ports[0]?.targetPort);
  });

  it('has a PrometheusRule with exactly the groups of deploy/prometheus/license-alerts.yml (npm run deploy:rules)', () => {
    const rule = one('PrometheusRule') as Manifest & { spec: { groups: unknown } };
    const alerts = parse(readFileSync(`${ROOT}deploy/prometheus/license-alerts.yml`, 'utf8')) as { groups: unknown };
    expect(rule.spec.groups).toEqual(alerts.groups);
    const check = spawnSync(process.execPath, [`${KUBERNETES_DIR}generate-prometheus-rule.mjs`, '--check'], { encoding: 'utf8' });
    expect({ status: check.status, stderr: check.stderr }).toEqual({ status: 0, stderr: '' });
    const scripts = (JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts['deploy:rules']).toBe('node deploy/kubernetes/generate-prometheus-rule.mjs');
  });
});

describe('deploy/docker/Dockerfile', () => {
  const instructions = dockerfileInstructions();
  const all = (op: string) => instructions.filter((instruction) => instruction.op === op).map((instruction) => instruction.args);
  const last = (op: string) => all(op).at(-1) ?? '';

  it('builds in stages and runs the compiled server as node, as PID 1, on 0.0.0.0', () => {
    expect(all('FROM').length).toBeGreaterThanOrEqual(2);
    expect(all('RUN')).toEqual(expect.arrayContaining([expect.stringMatching(/^npm ci\b/), 'npm run build', expect.stringMatching(/^npm ci --omit=dev\b/)]));
    expect(last('USER')).toBe('node');
    expect(JSON.parse(last('CMD'))).toEqual(['node', 'dist/app/main.js']);
    expect(existsSync(`${ROOT}src/app/main.ts`)).toBe(true);
    expect(all('ENV').join(' ')).toMatch(/\bHOST=0\.0\.0\.0\b/);
  });

  it('keeps the cache directory on a volume', () => {
    const env = Object.fromEntries(all('ENV').flatMap((args) => [...args.matchAll(/(\w+)=(\S+)/g)].map((match) => [match[1], match[2]])));
    const volumes = JSON.parse(last('VOLUME')) as string[];
    expect(volumes.some((volume) => env.SOFTCLIENT4ES_LICENSE_CACHE_DIR === volume || String(env.SOFTCLIENT4ES_LICENSE_CACHE_DIR).startsWith(`${volume}/`))).toBe(true);
  });

  it('has a HEALTHCHECK, run by node, that passes while the host answers /healthz and fails when nothing listens', async () => {
    const healthcheck = last('HEALTHCHECK');
    const command = JSON.parse(healthcheck.slice(healthcheck.indexOf('CMD ') + 4)) as string[];
    expect(command.slice(0, 2)).toEqual(['node', '-e']);
    const run = (port: number) =>
      new Promise<number>((resolve) => {
        execFile(process.execPath, command.slice(1), { env: { PORT: String(port) }, timeout: 10_000 }, (error) => resolve(error === null ? 0 : Number(error.code ?? 1)));
      });
    const env = await AgentEnvironment.create();
    try {
      const logger = new RecordingLogger();
      const agent = await createLicenseAgent(env.config(), { logger });
      const server = createHostApp(agent, logger).listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      const { port } = server.address() as AddressInfo;
      expect(await run(port)).toBe(0);
      await new Promise((resolve) => server.close(resolve));
      expect(await run(port)).not.toBe(0);
      await agent.stop();
    } finally {
      await env.dispose();
    }
  });

  it('sets only variables the agent reads', () => {
    const known = agentVariables();
    const set = all('ENV').flatMap((args) => [...args.matchAll(/(\w+)=/g)].map((match) => match[1] as string));
    expect(set.length).toBeGreaterThan(0);
    expect(set.filter((name) => !known.has(name))).toEqual([]);
  });

  it('copies from the build context only files that exist and that .dockerignore lets through', () => {
    const allowed = readFileSync(`${ROOT}.dockerignore`, 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('!'))
      .map((line) => line.slice(1).replace(/\/\*\*$/, ''));
    const sources = all('COPY')
      .filter((args) => !args.startsWith('--from='))
      .flatMap((args) => args.split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect({ source, exists: existsSync(`${ROOT}${source}`), allowed: allowed.includes(source) }).toEqual({ source, exists: true, allowed: true });
    }
  });
});
