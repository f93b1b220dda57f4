#!/usr/bin/env node
/** The CDK app: see lib/app.ts for the stacks and the context keys. */
import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildApp } from '../lib/app';

const app = new App();
buildApp(app);
// cdk-nag's AwsSolutions checks at every synth: an unsuppressed finding fails it.
Aspects.of(app).add(new AwsSolutionsChecks());
app.synth();
