/**
 * Synthesis for the tests: offline, no bundling, the context of cdk.json plus the test's own. The
 * tests ask for the placeholder code explicitly (the app's default builds the Rust bundles).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Aspects, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildApp } from '../lib/app';
import { REPO_ROOT } from '../lib/config';

export const INFRA = path.join(REPO_ROOT, 'infra');
const CDK_CONTEXT = JSON.parse(fs.readFileSync(path.join(INFRA, 'cdk.json'), 'utf8')).context;

/** The whole app, as `cdk synth -c fleetopt:code=placeholder` builds it, with cdk-nag's AwsSolutions checks applied. */
export function synthApp(context: Record<string, unknown> = {}, outdir?: string) {
  const app = new App({
    context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [], 'fleetopt:code': 'placeholder', ...context },
    outdir,
  });
  const built = buildApp(app);
  Aspects.of(app).add(new AwsSolutionsChecks());
  const assembly = app.synth();
  return { app, assembly, ...built };
}

/** Every cdk-nag error or warning left unsuppressed in a stack, as "path: message". */
export function nagFindings(stack: Stack): string[] {
  const annotations = Annotations.fromStack(stack);
  return [...annotations.findError('*', Match.anyValue()), ...annotations.findWarning('*', Match.anyValue())]
    .map((m) => `${m.id}: ${String(m.entry.data)}`);
}

/** The python of the project's venv (scripts/emulator installs it from the pinned lock). */
export function venvPython(): string {
  const venv = process.env.FLEETOPT_VENV ?? path.join(REPO_ROOT, '.venv');
  return path.join(venv, 'bin', 'python');
}
