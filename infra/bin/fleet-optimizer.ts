#!/usr/bin/env node
/** The CDK app: see lib/app.ts for the stacks and the context keys. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildApp } from '../lib/app';
import { REPO_ROOT } from '../lib/config';

// The default code source builds the bundles with cargo-lambda at synth: the pinned cargo-lambda
// and zig that `scripts/emulator install` puts in the project's venv are used when present
// (otherwise cargo-lambda-cdk looks on the PATH, then falls back to its Docker image).
const venvBin = path.join(process.env.FLEETOPT_VENV ?? path.join(REPO_ROOT, '.venv'), 'bin');
if (fs.existsSync(path.join(venvBin, 'cargo-lambda'))) {
  process.env.PATH = `${venvBin}${path.delimiter}${process.env.PATH ?? ''}`;
}

const app = new App();
// Fail early, with the way out, when the default build has nothing to build with (cdk list and
// destroy bundle nothing: the CLI passes an empty aws:cdk:bundling-stacks then).
const bundles = app.node.tryGetContext('aws:cdk:bundling-stacks') ?? ['**'];
const runs = (command: string, args: string[]) => spawnSync(command, args, { stdio: 'ignore' }).status === 0;
if ((app.node.tryGetContext('fleetopt:code') ?? 'cargo') === 'cargo' && bundles.length > 0
  && !runs('cargo', ['lambda', '--version']) && !runs('docker', ['version'])) {
  process.stderr.write('fleet-optimizer: cdk synth builds the functions with cargo-lambda by default, and neither ' +
    'cargo-lambda nor Docker is available. Run scripts/emulator install (the pinned cargo-lambda and zig, in .venv), ' +
    'or build first with scripts/build-bundles, or add -c fleetopt:code=placeholder to synthesize stand-ins that ' +
    'fail every invocation.\n');
  process.exit(1);
}
buildApp(app);
// cdk-nag's AwsSolutions checks at every synth: an unsuppressed finding fails it.
Aspects.of(app).add(new AwsSolutionsChecks());
app.synth();
