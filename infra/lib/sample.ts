/**
 * The sample stack: a small arm64 Auto Scaling group (t4g.micro, 1 to 4 instances) in isolated
 * subnets, for the environment stacks to target when no group is named in context. Its group
 * metrics are collected (the analyzer reads GroupInServiceInstances and friends).
 */
import { Stack, StackProps, Tags } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { DEFAULT_TARGET_TAG } from './config';
import { suppressSampleGroup } from './nag';

export class SampleFleetStack extends Stack {
  public readonly group: autoscaling.AutoScalingGroup;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'fleet', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
      flowLogs: { all: { trafficType: ec2.FlowLogTrafficType.REJECT } },
    });
    const securityGroup = new ec2.SecurityGroup(this, 'Instances', {
      vpc,
      description: 'fleet-optimizer sample instances: no inbound traffic',
      allowAllOutbound: false,
    });
    const launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      instanceType: ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MICRO),
      machineImage: ec2.MachineImage.latestAmazonLinux2023({ cpuType: ec2.AmazonLinuxCpuType.ARM_64 }),
      requireImdsv2: true,
      securityGroup,
      detailedMonitoring: true,
      blockDevices: [{ deviceName: '/dev/xvda', volume: ec2.BlockDeviceVolume.ebs(8, { encrypted: true }) }],
    });
    this.group = new autoscaling.AutoScalingGroup(this, 'Group', {
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      launchTemplate,
      minCapacity: 1,
      maxCapacity: 4,
      groupMetrics: [autoscaling.GroupMetrics.all()],
    });
    suppressSampleGroup(this.group);
    Tags.of(this.group).add(DEFAULT_TARGET_TAG.key, DEFAULT_TARGET_TAG.value);
  }
}
