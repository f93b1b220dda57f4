/**
 * The dashboard of docs/construct.md, seven widgets: CPU vs target, memory trend, performance
 * score, efficiency rating, cost savings potential (with the savings achieved on its right axis),
 * ASG capacity, recommendations summary.
 * Named groups get one line each; a tag selector gets CloudWatch SEARCH expressions over every
 * group (the dashboard cannot know the tagged groups at synth).
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { EnvironmentName, OptimizationConfig } from './config';
import type { FleetFunctions } from './fleet-optimizer';
import { fleetMetric, groupCpu } from './alarms';
import { TargetSelector } from './target';

export interface FleetDashboardProps {
  readonly dashboardName: string;
  readonly environmentName: EnvironmentName;
  readonly target: TargetSelector;
  readonly config: OptimizationConfig;
  readonly functions: FleetFunctions;
  /** The namespace the functions publish to (`FLEETOPT_METRICS_NAMESPACE`). */
  readonly metricsNamespace: string;
}

/** The widget titles, in order; the tests and the README name them. */
export const WIDGETS = [
  'CPU utilization vs target',
  'Memory utilization trend',
  'Performance score',
  'Efficiency rating',
  'Cost savings potential (% of monthly cost) and achieved (USD a month)',
  'ASG capacity',
  'Recommendations summary',
] as const;

export class FleetDashboard extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: FleetDashboardProps) {
    super(scope, id);
    const env = props.environmentName;
    const fiveMinutes = Duration.minutes(5);
    const hour = Duration.hours(1);
    const byGroup = (
      perGroup: (group: string) => cloudwatch.IMetric,
      search: { namespace: string; dimensions: string; metricName: string; stat: string; period: Duration; label: string },
    ): cloudwatch.IMetric[] => {
      if (props.target.kind === 'names') return props.target.names.map(perGroup);
      return [new cloudwatch.MathExpression({
        expression: `SEARCH('{${search.namespace},${search.dimensions}} MetricName="${search.metricName}"', '${search.stat}', ${search.period.toSeconds()})`,
        label: search.label,
        period: search.period,
      })];
    };
    const ours = (metricName: string, period: Duration) => byGroup(
      (group) => fleetMetric(props.metricsNamespace, metricName, env, group, period).with({ label: group }),
      { namespace: props.metricsNamespace, dimensions: 'Environment,AutoScalingGroupName', metricName, stat: 'Average', period, label: metricName },
    );
    const target = (label: string, value: number): cloudwatch.HorizontalAnnotation => ({ label, value });

    const widgets: cloudwatch.IWidget[] = [
      new cloudwatch.GraphWidget({
        title: WIDGETS[0],
        left: byGroup((group) => groupCpu(group, fiveMinutes).with({ label: group }),
          { namespace: 'AWS/EC2', dimensions: 'AutoScalingGroupName', metricName: 'CPUUtilization', stat: 'Average', period: fiveMinutes, label: 'CPU' }),
        leftAnnotations: [target(`target ${props.config.cpuUtilizationTarget} %`, props.config.cpuUtilizationTarget)],
        leftYAxis: { min: 0, max: 100, label: '%' },
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: WIDGETS[1],
        left: byGroup((group) => new cloudwatch.Metric({
          namespace: 'CWAgent', metricName: 'mem_used_percent', dimensionsMap: { AutoScalingGroupName: group },
          statistic: cloudwatch.Stats.AVERAGE, period: hour, label: group,
        }), { namespace: 'CWAgent', dimensions: 'AutoScalingGroupName', metricName: 'mem_used_percent', stat: 'Average', period: hour, label: 'memory' }),
        leftAnnotations: [target(`target ${props.config.memoryUtilizationTarget} %`, props.config.memoryUtilizationTarget)],
        leftYAxis: { min: 0, max: 100, label: '%' },
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: WIDGETS[2],
        left: ours('PerformanceScore', hour),
        leftAnnotations: [target('alarm below 70', 70)],
        leftYAxis: { min: 0, max: 100 },
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: WIDGETS[3],
        left: ours('EfficiencyRating', hour),
        leftYAxis: { min: 0, max: 100 },
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: WIDGETS[4],
        left: ours('CostSavingsPotential', Duration.days(1)),
        leftYAxis: { min: 0, label: '%' },
        // Savings achieved by the changes completed in the last 30 days, as the cost optimizer
        // measured them: negative when they added cost, so the axis has no floor.
        right: byGroup(
          (group) => fleetMetric(props.metricsNamespace, 'RealizedSavings', env, group, Duration.days(1))
            .with({ label: `${group} achieved` }),
          { namespace: props.metricsNamespace, dimensions: 'Environment,AutoScalingGroupName', metricName: 'RealizedSavings', stat: 'Average', period: Duration.days(1), label: 'RealizedSavings' },
        ),
        rightYAxis: { label: 'USD a month achieved' },
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: WIDGETS[5],
        left: ['GroupInServiceInstances', 'GroupDesiredCapacity', 'GroupMaxSize'].flatMap((metricName) => byGroup(
          (group) => new cloudwatch.Metric({
            namespace: 'AWS/AutoScaling', metricName, dimensionsMap: { AutoScalingGroupName: group },
            statistic: cloudwatch.Stats.AVERAGE, period: fiveMinutes, label: `${group} ${metricName}`,
          }),
          { namespace: 'AWS/AutoScaling', dimensions: 'AutoScalingGroupName', metricName, stat: 'Average', period: fiveMinutes, label: metricName },
        )),
        leftYAxis: { min: 0 },
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: WIDGETS[6],
        left: ours('OptimizationRecommendations', hour),
        right: ['ActionsApplied', 'ActionsFailed', 'ActionsRolledBack'].map((metricName) => new cloudwatch.MathExpression({
          expression: `SUM(SEARCH('{${props.metricsNamespace},Environment,AutoScalingGroupName} MetricName="${metricName}" Environment="${env}"', 'Sum', 3600))`,
          label: metricName,
          period: hour,
        })),
        leftYAxis: { min: 0, label: 'active' },
        rightYAxis: { min: 0, label: 'actions' },
        width: 12,
      }),
    ];
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.days(1),
      widgets: [widgets.slice(0, 2), widgets.slice(2, 5), widgets.slice(5, 7)],
    });
  }
}
