/** The recommendations table, built from `shared/schema/recommendations-table.json` only. */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { tableSchema } from './config';

export interface RecommendationsTableProps {
  readonly tableName: string;
  /** Production keeps its table through a stack deletion and refuses a table deletion. */
  readonly protect: boolean;
}

/** Keys, GSIs, TTL, stream and billing from the schema file; PITR and encryption always on. */
export function recommendationsTable(scope: Construct, id: string, props: RecommendationsTableProps): dynamodb.Table {
  const schema = tableSchema();
  const attribute = (name: string): dynamodb.Attribute => {
    const definition = schema.attributeDefinitions.find((a) => a.name === name);
    if (!definition) {
      throw new Error(`recommendations-table.json: key attribute ${name} has no attributeDefinitions entry`);
    }
    const type = { S: dynamodb.AttributeType.STRING, N: dynamodb.AttributeType.NUMBER, B: dynamodb.AttributeType.BINARY }[definition.type];
    return { name, type };
  };
  const table = new dynamodb.Table(scope, id, {
    tableName: props.tableName,
    partitionKey: attribute(schema.partitionKey),
    sortKey: attribute(schema.sortKey),
    billingMode: schema.billingMode === 'PAY_PER_REQUEST' ? dynamodb.BillingMode.PAY_PER_REQUEST : dynamodb.BillingMode.PROVISIONED,
    stream: dynamodb.StreamViewType[schema.stream],
    timeToLiveAttribute: schema.timeToLiveAttribute,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: dynamodb.TableEncryption.AWS_MANAGED,
    deletionProtection: props.protect,
    removalPolicy: props.protect ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
  });
  for (const index of schema.globalSecondaryIndexes) {
    table.addGlobalSecondaryIndex({
      indexName: index.name,
      partitionKey: attribute(index.partitionKey),
      sortKey: attribute(index.sortKey),
      projectionType: index.projection === 'ALL' ? dynamodb.ProjectionType.ALL : dynamodb.ProjectionType.KEYS_ONLY,
    });
  }
  return table;
}
