/**
 * The app: a stack per environment using `FleetOptimizer`, and, when no group is named in
 * context, a sample stack holding a small Auto Scaling group for them to target.
 *
 * Context keys (`cdk synth -c key=value`):
 * - `fleetopt:application`: application name (default `app`)
 * - `fleetopt:targetGroupNames`: comma-separated Auto Scaling group names to optimize; without
 *   it, the sample stack's group
 * - `fleetopt:code`: `cargo` (default: cargo-lambda-cdk runs `cargo lambda build --release
 *   --arm64` for each function at synth, locally when cargo-lambda is on the PATH, else in its
 *   Docker image), `bundles` (prebuilt, see `fleetopt:bundleDir`) or `placeholder` (no Rust
 *   build: a committed stand-in that fails every invocation; what the tests synthesize)
 * - `fleetopt:bundleDir`: with `bundles`, the directory holding `<binary>/bootstrap`
 *   (default `<repo>/target/lambda`)
 * - `fleetopt:architecture`: `arm64` (default) or `x86_64`, as the bundles were built
 * - `fleetopt:environments`: comma-separated subset of production,staging,development
 * - `fleetopt:approvers`: comma-separated ARNs of the IAM roles and users who may approve
 *   (the construct's `approvers`); default none
 * - `fleetopt:memberAccounts`: comma-separated member account ids, or `organization` for every
 *   ACTIVE account of the organization (the construct's `members`, docs/accounts.md); default none
 * - `fleetopt:memberRegions`: comma-separated regions of the member accounts (default the
 *   stack's region)
 * - `fleetopt:memberRoleName`: the member role's name (default `fleet-optimizer-member`)
 * - `fleetopt:centralAccount`: synthesize the member stack `<application>-fleet-optimizer-member`
 *   (the member role, for StackSets) trusting this central account's `fleetopt:memberEnvironment`
 *   (default production)
 */
import * as path from 'node:path';
import { App, CfnOutput, DefaultStackSynthesizer, Stack, StackProps } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { FunctionCode } from './code';
import { ENVIRONMENTS, EnvironmentName, REPO_ROOT } from './config';
import { FleetOptimizer, FleetOptimizerProps } from './fleet-optimizer';
import { FleetOptimizerMemberStack, MemberAccountsProps } from './members';
import { SampleFleetStack } from './sample';

export interface FleetOptimizerStackProps extends StackProps, Omit<FleetOptimizerProps, 'environmentName'> {
  readonly environmentName: EnvironmentName;
}

/**
 * One environment's stack. Its outputs name the two signing keys, for granting approval and for
 * checking signatures: `ApprovalKeyArn`, `ApprovalKeyAlias`, `FindingKeyArn`, `FindingKeyAlias`.
 */
export class FleetOptimizerStack extends Stack {
  public readonly fleetOptimizer: FleetOptimizer;

  constructor(scope: Construct, id: string, props: FleetOptimizerStackProps) {
    super(scope, id, props);
    const fleet = this.fleetOptimizer = new FleetOptimizer(this, 'FleetOptimizer', props);
    new CfnOutput(this, 'ApprovalKeyArn', {
      value: fleet.approvalKey.keyArn,
      description: 'The approvals key: kms:Sign on it is the right to approve (docs/construct.md)',
    });
    new CfnOutput(this, 'ApprovalKeyAlias', { value: fleet.approvalKeyAlias.aliasName, description: "The approvals key's alias" });
    new CfnOutput(this, 'FindingKeyArn', {
      value: fleet.findingKey.keyArn,
      description: 'The findings key: the analyzer signs the automated scale-ups it writes with it',
    });
    new CfnOutput(this, 'FindingKeyAlias', { value: fleet.findingKeyAlias.aliasName, description: "The findings key's alias" });
  }
}

/** The stack name of an environment: `<application>-fleet-optimizer-<environment>`. */
export function stackName(application: string, environment: EnvironmentName): string {
  return `${application}-fleet-optimizer-${environment}`;
}

/** The code source named by context. */
export function codeFromContext(app: Construct): FunctionCode {
  const kind = app.node.tryGetContext('fleetopt:code') ?? 'cargo';
  switch (kind) {
    case 'placeholder':
      return FunctionCode.placeholder();
    case 'cargo':
      return FunctionCode.fromCargo();
    case 'bundles':
      return FunctionCode.fromBundles(path.resolve(app.node.tryGetContext('fleetopt:bundleDir') ?? path.join(REPO_ROOT, 'target', 'lambda')));
    default:
      throw new Error(`context fleetopt:code=${JSON.stringify(kind)}: must be placeholder, cargo or bundles`);
  }
}

/** The functions' architecture named by context (default arm64). */
export function architectureFromContext(app: Construct): lambda.Architecture {
  const name = app.node.tryGetContext('fleetopt:architecture') ?? 'arm64';
  if (name === 'arm64') return lambda.Architecture.ARM_64;
  if (name === 'x86_64') return lambda.Architecture.X86_64;
  throw new Error(`context fleetopt:architecture=${JSON.stringify(name)}: must be arm64 or x86_64`);
}

function listContext(app: Construct, key: string): string[] | undefined {
  const value = app.node.tryGetContext(key);
  if (value === undefined || value === '') return undefined;
  return (Array.isArray(value) ? value : String(value).split(',')).map((s: string) => s.trim());
}

/** An IAM role's or user's ARN (a path allowed, as IAM Identity Center's roles have). */
const APPROVER_ARN = /^arn:aws(-[a-z]+)*:iam::\d{12}:(role|user)\/[\w+=,.@/-]+$/;

/**
 * The approvers named by context, as principals given by ARN: the stack cannot change their IAM
 * policies, so the construct names them in the approvals key's policy and the table's resource
 * policy instead.
 */
export function approversFromContext(app: Construct): iam.IPrincipal[] {
  const arns = listContext(app, 'fleetopt:approvers') ?? [];
  for (const arn of arns) {
    if (!APPROVER_ARN.test(arn)) {
      throw new Error(`context fleetopt:approvers: ${JSON.stringify(arn)} is not an IAM role or user ARN (arn:aws:iam::<account>:role/<name> or :user/<name>)`);
    }
  }
  return arns.map((arn) => new iam.ArnPrincipal(arn));
}

/** The member accounts named by context, as the construct's `members`. */
export function membersFromContext(app: Construct): MemberAccountsProps | undefined {
  const accounts = listContext(app, 'fleetopt:memberAccounts');
  if (!accounts) return undefined;
  const organization = accounts.length === 1 && accounts[0] === 'organization';
  return {
    ...(organization ? { organization: true } : { accounts }),
    regions: listContext(app, 'fleetopt:memberRegions'),
    roleName: app.node.tryGetContext('fleetopt:memberRoleName'),
  };
}

/** Builds every stack of the app from its context. */
export function buildApp(app: App): { stacks: FleetOptimizerStack[]; sample?: SampleFleetStack; member?: FleetOptimizerMemberStack } {
  const application = app.node.tryGetContext('fleetopt:application') ?? 'app';
  const environments = (listContext(app, 'fleetopt:environments') ?? [...ENVIRONMENTS]) as EnvironmentName[];
  for (const e of environments) {
    if (!(ENVIRONMENTS as readonly string[]).includes(e)) {
      throw new Error(`context fleetopt:environments: ${JSON.stringify(e)} is not production, staging or development`);
    }
  }
  const code = codeFromContext(app);
  const architecture = architectureFromContext(app);
  const approvers = approversFromContext(app);
  const members = membersFromContext(app);
  // The default synthesizer, with the bootstrap version check left out of the templates:
  // `cdk deploy` still needs a bootstrapped account (its asset bucket and roles), and the
  // templates stay deployable by plain CloudFormation (and the emulator) from the uploaded assets.
  const synthesizer = () => new DefaultStackSynthesizer({ generateBootstrapVersionRule: false });
  const names = listContext(app, 'fleetopt:targetGroupNames');
  let sample: SampleFleetStack | undefined;
  let group: autoscaling.IAutoScalingGroup | undefined;
  if (!names) {
    sample = new SampleFleetStack(app, `${application}-fleet-optimizer-sample`, {
      stackName: `${application}-fleet-optimizer-sample`,
      description: 'fleet-optimizer sample: a small Auto Scaling group for the environment stacks to target',
      synthesizer: synthesizer(),
    });
    group = sample.group;
  }
  const stacks = environments.map((environmentName) => new FleetOptimizerStack(app, stackName(application, environmentName), {
    stackName: stackName(application, environmentName),
    description: `fleet-optimizer (${environmentName}): analyzer, optimization engine and cost optimizer`,
    synthesizer: synthesizer(),
    environmentName,
    applicationName: application,
    ...(group ? { autoScalingGroup: group } : { autoScalingGroupNames: names }),
    code,
    architecture,
    approvers,
    members,
  }));
  const central = app.node.tryGetContext('fleetopt:centralAccount');
  let member: FleetOptimizerMemberStack | undefined;
  if (central !== undefined) {
    const environmentName = (app.node.tryGetContext('fleetopt:memberEnvironment') ?? 'production') as EnvironmentName;
    member = new FleetOptimizerMemberStack(app, `${application}-fleet-optimizer-member`, {
      stackName: `${application}-fleet-optimizer-member`,
      description: `fleet-optimizer member role: ${application}-${environmentName} in ${central} reads and scales tagged groups here`,
      synthesizer: synthesizer(),
      centralAccountId: String(central),
      applicationName: application,
      environmentName,
      roleName: app.node.tryGetContext('fleetopt:memberRoleName'),
    });
  }
  return { stacks, sample, member };
}
