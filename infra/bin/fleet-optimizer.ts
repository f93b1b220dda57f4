#!/usr/bin/env node
/** The CDK app: see lib/app.ts for the stacks and the context keys. */
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
buildApp(app);
// cdk-nag's AwsSolutions checks at every synth: an unsuppressed finding fails it.
Aspects.of(app).add(new AwsSolutionsChecks());
app.synth();
