#!/usr/bin/env node
/** The CDK app: see lib/app.ts for the stacks and the context keys. */
import { App } from 'aws-cdk-lib';
import { buildApp } from '../lib/app';

const app = new App();
buildApp(app);
app.synth();
