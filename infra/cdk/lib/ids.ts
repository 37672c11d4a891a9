import { CfnResource } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** Gives the construct's resource the logical id SAM gives it, so that both templates name it alike. */
export function logicalId<T extends IConstruct>(construct: T, id: string): T {
  const resource = construct instanceof CfnResource ? construct : construct.node.defaultChild;
  if (!(resource instanceof CfnResource)) {
    throw new Error(`${construct.node.path} has no CloudFormation resource to name ${id}`);
  }
  resource.overrideLogicalId(id);
  return construct;
}
