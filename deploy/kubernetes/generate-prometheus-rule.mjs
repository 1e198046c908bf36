#!/usr/bin/env node
// Writes deploy/kubernetes/prometheus-rule.yaml: a Prometheus Operator PrometheusRule whose groups
// are deploy/prometheus/license-alerts.yml's, copied line for line (comments included) under `spec:`.
//   npm run deploy:rules            regenerate it
//   npm run deploy:rules -- --check exit 1 when it is out of date
import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';

const RULES_FILE = new URL('../prometheus/license-alerts.yml', import.meta.url);
const OUTPUT_FILE = new URL('./prometheus-rule.yaml', import.meta.url);

const HEADER = `# Generated from deploy/prometheus/license-alerts.yml by \`npm run deploy:rules\`: do not edit.
# The Prometheus Operator loads it when its ruleSelector matches these labels (often a \`release\`
# label naming the kube-prometheus-stack installation: add it here and regenerate, or patch it).
`;

export function prometheusRule(rulesText) {
  const lines = rulesText.split('\n');
  const at = lines.indexOf('groups:');
  if (at < 0 || !Array.isArray(parse(rulesText)?.groups)) throw new Error('license-alerts.yml has no top-level `groups:`');
  const groups = lines.slice(at).map((line) => (line === '' ? line : `  ${line}`));
  return `${HEADER}apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: softclient4es-license-agent
  labels:
    app.kubernetes.io/name: softclient4es-license-agent
spec:
${groups.join('\n')}`;
}

const expected = prometheusRule(readFileSync(RULES_FILE, 'utf8'));
if (process.argv.includes('--check')) {
  let actual = null;
  try {
    actual = readFileSync(OUTPUT_FILE, 'utf8');
  } catch {
    // reported below
  }
  if (actual !== expected) {
    process.stderr.write('deploy/kubernetes/prometheus-rule.yaml is out of date with deploy/prometheus/license-alerts.yml: run `npm run deploy:rules`\n');
    process.exit(1);
  }
} else {
  writeFileSync(OUTPUT_FILE, expected);
}
