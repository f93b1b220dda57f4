/**
 * The alarms of docs/construct.md, with the thresholds of `config.ALARMS`: per targeted group
 * high CPU, low CPU and performance degradation; per function errors; and the failure queue.
 * Every alarm notifies the performance-alert topic; EventBridge rules (in the construct) route the
 * group alarms to the functions by name prefix.
 */
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Annotations, Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ALARMS, EnvironmentName, FUNCTIONS, FunctionKey, names } from './config';
import type { FleetFunctions } from './fleet-optimizer';
import { TargetSelector } from './target';

export interface FleetAlarmsProps {
  readonly names: ReturnType<typeof names>;
  readonly environmentName: EnvironmentName;
  readonly target: TargetSelector;
  readonly functions: FleetFunctions;
  readonly alertTopic: sns.ITopic;
  readonly deadLetterQueue: sqs.IQueue;
  /** The namespace the functions publish to (`FLEETOPT_METRICS_NAMESPACE`). */
  readonly metricsNamespace: string;
}

/** The alarms of one group. */
export interface GroupAlarms {
  readonly highCpu: cloudwatch.Alarm;
  readonly lowCpu: cloudwatch.Alarm;
  readonly performanceDegradation: cloudwatch.Alarm;
}

/** CPUUtilization of one group (AWS/EC2, by AutoScalingGroupName). */
export function groupCpu(group: string, period: Duration): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/EC2',
    metricName: 'CPUUtilization',
    dimensionsMap: { AutoScalingGroupName: group },
    statistic: cloudwatch.Stats.AVERAGE,
    period,
  });
}

/** One of our own metrics for a group (in the construct's metrics namespace, default FleetOptimizer). */
export function fleetMetric(namespace: string, metricName: string, environment: EnvironmentName, group: string, period: Duration): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace,
    metricName,
    dimensionsMap: { Environment: environment, AutoScalingGroupName: group },
    statistic: cloudwatch.Stats.AVERAGE,
    period,
  });
}

export class FleetAlarms extends Construct {
  public readonly groups: GroupAlarms[] = [];
  public readonly functionErrors: Record<FunctionKey, cloudwatch.Alarm>;
  public readonly failures: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: FleetAlarmsProps) {
    super(scope, id);
    const notify = new actions.SnsAction(props.alertTopic);
    const n = props.names;
    const withAction = (alarm: cloudwatch.Alarm) => {
      alarm.addAlarmAction(notify);
      return alarm;
    };

    if (props.target.kind === 'names') {
      props.target.names.forEach((group, i) => {
        const { highCpu, lowCpu, performanceDegradation } = ALARMS;
        this.groups.push({
          highCpu: withAction(new cloudwatch.Alarm(this, `HighCpu${i}`, {
            alarmName: `${n.alarmPrefix('high-cpu')}${group}`,
            alarmDescription: `CPU >= ${highCpu.threshold} % for ${highCpu.evaluationPeriods} x ${highCpu.period.toMinutes()} min: the analyzer looks now`,
            metric: groupCpu(group, highCpu.period),
            threshold: highCpu.threshold,
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluationPeriods: highCpu.evaluationPeriods,
            datapointsToAlarm: highCpu.evaluationPeriods,
            treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          })),
          lowCpu: withAction(new cloudwatch.Alarm(this, `LowCpu${i}`, {
            alarmName: `${n.alarmPrefix('low-cpu')}${group}`,
            alarmDescription: `CPU <= ${lowCpu.threshold} % for ${lowCpu.evaluationPeriods} x ${lowCpu.period.toMinutes()} min: the cost optimizer looks now`,
            metric: groupCpu(group, lowCpu.period),
            threshold: lowCpu.threshold,
            comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluationPeriods: lowCpu.evaluationPeriods,
            datapointsToAlarm: lowCpu.evaluationPeriods,
            treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          })),
          performanceDegradation: withAction(new cloudwatch.Alarm(this, `PerformanceDegradation${i}`, {
            alarmName: `${n.alarmPrefix('performance-degradation')}${group}`,
            alarmDescription: `PerformanceScore < ${performanceDegradation.threshold} for ${performanceDegradation.evaluationPeriods} x ${performanceDegradation.period.toMinutes()} min; missing data ignored (the score is published once per analysis interval)`,
            metric: fleetMetric(props.metricsNamespace, 'PerformanceScore', props.environmentName, group, performanceDegradation.period),
            threshold: performanceDegradation.threshold,
            comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluationPeriods: performanceDegradation.evaluationPeriods,
            datapointsToAlarm: performanceDegradation.evaluationPeriods,
            treatMissingData: cloudwatch.TreatMissingData.IGNORE,
          })),
        });
      });
    } else {
      Annotations.of(this).addInfo(
        `FleetOptimizer targets groups tagged ${props.target.key}=${props.target.value}: the per-group alarms need ` +
        'group names, so none are created (name the groups to get them)');
    }

    const errors = (key: FunctionKey) => withAction(new cloudwatch.Alarm(this, `${FUNCTIONS[key].binary}-errors`, {
      alarmName: n.errorsAlarm(key),
      alarmDescription: `${n.function(key)} returned an error`,
      metric: props.functions[key].metricErrors({ period: ALARMS.functionErrors.period, statistic: cloudwatch.Stats.SUM }),
      threshold: ALARMS.functionErrors.threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: ALARMS.functionErrors.evaluationPeriods,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }));
    this.functionErrors = { analyzer: errors('analyzer'), engine: errors('engine'), costOptimizer: errors('costOptimizer') };

    this.failures = withAction(new cloudwatch.Alarm(this, 'Failures', {
      alarmName: `${n.prefix}-failures`,
      alarmDescription: 'Failed invocations, stream batches or rule deliveries are waiting in the failure queue',
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: cloudwatch.Stats.MAXIMUM }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }));
  }
}
