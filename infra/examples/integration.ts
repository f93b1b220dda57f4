/**
 * The integration example of docs/construct.md: an application's own stack, with its own Auto
 * Scaling group and alarm topic, adding fleet-optimizer through the construct's original props.
 * infra/test/original.test.ts synthesizes it and checks that docs/construct.md quotes this file.
 */
import { Duration, Stack, StackProps } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { FunctionCode } from '../lib/code';
import { FleetOptimizer } from '../lib/fleet-optimizer';

export interface WebApplicationStackProps extends StackProps {
  /** Where the functions' code comes from; default the real bundles, built at synth. */
  readonly code?: FunctionCode;
}

export class WebApplicationStack extends Stack {
  constructor(scope: Construct, id: string, props: WebApplicationStackProps = {}) {
    super(scope, id, props);

    const vpc = new ec2.Vpc(this, 'Vpc', { maxAzs: 2 });
    const webServers = new autoscaling.AutoScalingGroup(this, 'WebServers', {
      vpc,
      instanceType: ec2.InstanceType.of(ec2.InstanceClass.M7G, ec2.InstanceSize.LARGE),
      machineImage: ec2.MachineImage.latestAmazonLinux2023({ cpuType: ec2.AmazonLinuxCpuType.ARM_64 }),
      minCapacity: 2,
      maxCapacity: 10,
    });
    const operations = new sns.Topic(this, 'Operations', { enforceSSL: true });

    new FleetOptimizer(this, 'FleetOptimizer', {
      environmentName: 'production',
      applicationName: 'web-app',
      autoScalingGroup: webServers,
      optimizationConfig: {
        enableAutoScalingOptimization: true,
        enableCostOptimization: true,
        enablePerformanceMonitoring: true,
        analysisInterval: Duration.hours(1),
        performanceThresholds: {
          cpuUtilizationTarget: 70,
          memoryUtilizationTarget: 80,
          responseTimeTarget: 500,
          throughputTarget: 1000,
        },
        costThresholds: {
          maxHourlyCost: 50,
          utilizationThreshold: 60,
        },
      },
      optimizationNotificationTopics: [operations],
      metricsNamespace: 'WebApp/FleetOptimizer',
      code: props.code,
    });
  }
}
