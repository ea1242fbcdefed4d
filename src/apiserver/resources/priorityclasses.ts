// scheduling.k8s.io/v1 PriorityClass (validation, table, built-in system classes) and the Priority admission of pods.
import { forbidden } from '../../api/status.js';
import { Errors, isObject, validateMeta } from '../validation.js';
import { age, col, ageColumn } from '../tables.js';
import { kindSchema } from '../schema.js';
import { storeKey } from '../codec.js';
import type { Obj, ResourceDef, StrategyContext } from '../types.js';

// Constants of pkg/apis/scheduling/types.go.
export const highestUserDefinablePriority = 1_000_000_000;
export const systemCriticalPriority = 2 * highestUserDefinablePriority;
export const systemPriorityClassPrefix = 'system-';
const preemptionPolicies = ['Never', 'PreemptLowerPriority'];

/** The classes every cluster has (scheduling.SystemPriorityClasses); the API server creates them at start. */
export const systemPriorityClasses: Obj[] = [
  {
    apiVersion: 'scheduling.k8s.io/v1',
    kind: 'PriorityClass',
    metadata: { name: 'system-node-critical' },
    value: systemCriticalPriority + 1000,
    description: 'Used for system critical pods that must not be moved from their current node.',
  },
  {
    apiVersion: 'scheduling.k8s.io/v1',
    kind: 'PriorityClass',
    metadata: { name: 'system-cluster-critical' },
    value: systemCriticalPriority,
    description:
      'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.',
  },
];

/** Why a `system-` name is not a known system class with these settings (IsKnownSystemPriorityClass). */
function systemClassError(name: string, value: unknown, globalDefault: unknown): string | undefined {
  const known = systemPriorityClasses.find((c) => c.metadata.name === name);
  if (!known) return `${name} is not a known system priority class`;
  if (known.value !== value) return `value of ${name} PriorityClass must be ${known.value}`;
  if ((globalDefault ?? false) !== false) return `globalDefault of ${name} PriorityClass must be false`;
  return undefined;
}

export const priorityclasses: ResourceDef = {
  group: 'scheduling.k8s.io',
  version: 'v1',
  resource: 'priorityclasses',
  singular: 'priorityclass',
  kind: 'PriorityClass',
  namespaced: false,
  shortNames: ['pc'],
  storage: 'priorityclasses',
  subresources: [],
  hasStatus: false,
  schema: kindSchema({ value: true, globalDefault: true, description: true, preemptionPolicy: true }),
  defaults(obj) {
    obj.preemptionPolicy ??= 'PreemptLowerPriority';
  },
  validate(obj, old, ctx) {
    const errs = new Errors();
    validateMeta(obj.metadata, errs, { namespaced: false, nameRule: 'subdomain' });
    const v = obj.value;
    if (v === undefined || v === null) errs.required('value');
    else if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647)
      errs.typeInvalid('value', v, 'must be a 32-bit integer');
    const name: string = obj.metadata?.name ?? '';
    if (name.startsWith(systemPriorityClassPrefix)) {
      const e = systemClassError(name, v, obj.globalDefault);
      if (e)
        errs.forbidden(
          'metadata.name',
          `priority class names with '${systemPriorityClassPrefix}' prefix are reserved for system use only. error: ${e}`,
        );
    } else if (Number.isInteger(v) && v > highestUserDefinablePriority)
      errs.forbidden('value', `maximum allowed value of a user defined priority is ${highestUserDefinablePriority}`);
    if (obj.globalDefault !== undefined && obj.globalDefault !== null && typeof obj.globalDefault !== 'boolean')
      errs.typeInvalid('globalDefault', obj.globalDefault, 'must be a boolean');
    if (obj.preemptionPolicy !== undefined && !preemptionPolicies.includes(obj.preemptionPolicy))
      errs.notSupported('preemptionPolicy', obj.preemptionPolicy, preemptionPolicies);
    if (old) {
      if (obj.value !== old.value) errs.forbidden('value', 'may not be changed in an update.');
      if (obj.preemptionPolicy !== old.preemptionPolicy)
        errs.invalid('preemptionPolicy', obj.preemptionPolicy, 'field is immutable');
    }
    // Priority admission (validatePriorityClass): at most one class is the global default; a 403 as upstream.
    if (errs.list.length === 0 && obj.globalDefault === true && ctx.objects) {
      const other = defaultClass(ctx, name);
      if (other)
        throw forbidden(
          { group: 'scheduling.k8s.io', resource: 'priorityclasses', name, kind: 'PriorityClass' },
          `PriorityClass ${other.metadata.name} is already marked as default. Only one default can exist`,
        );
    }
    return errs.list;
  },
  table: {
    // kubectl printers: NAME VALUE GLOBAL-DEFAULT AGE PREEMPTIONPOLICY (the last added in 1.24).
    columns: [
      col('Value', 'integer', 'The value of this priority class.'),
      col('Global-Default', 'boolean', 'globalDefault is the global default priority class.'),
      ageColumn,
      col('PreemptionPolicy', 'string', 'The preemption policy of this priority class.'),
    ],
    cells: (pc, now) => [
      pc.value ?? 0,
      pc.globalDefault ?? false,
      age(pc.metadata?.creationTimestamp, now),
      pc.preemptionPolicy ?? '',
    ],
  },
};

/** The global default class other than `except`, if any: the lowest value wins when a race left two (upstream). */
function defaultClass(ctx: StrategyContext, except?: string): Obj | undefined {
  let best: Obj | undefined;
  for (const c of ctx.objects?.list('priorityclasses') ?? [])
    if (c.globalDefault === true && c.metadata?.name !== except && (!best || c.value < best.value)) best = c;
  return best;
}

/**
 * The Priority admission plugin on pod create: resolves spec.priorityClassName (or the global default class) to
 * spec.priority and spec.preemptionPolicy. A pod may not bring its own different integer priority.
 */
export async function admitPodPriority(pod: Obj, ctx: StrategyContext): Promise<void> {
  const spec = pod.spec;
  if (!isObject(spec)) return;
  const name = pod.metadata?.name ?? '';
  const ref = { group: '', resource: 'pods', name, kind: 'Pod' };
  let priority = 0;
  let policy: string | undefined;
  const className = spec.priorityClassName;
  if (typeof className === 'string' && className !== '') {
    const pc = await ctx.objects?.get('priorityclasses', storeKey('priorityclasses', undefined, className));
    if (!pc) throw forbidden(ref, `no PriorityClass with name ${className} was found`);
    priority = pc.value;
    policy = pc.preemptionPolicy;
  } else {
    const pc = defaultClass(ctx);
    if (pc) {
      spec.priorityClassName = pc.metadata.name;
      priority = pc.value;
      policy = pc.preemptionPolicy;
    }
  }
  if (spec.priority !== undefined && spec.priority !== null && spec.priority !== priority)
    throw forbidden(
      ref,
      `the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${priority} from the given PriorityClass name`,
    );
  spec.priority = priority;
  if (policy !== undefined) {
    if (spec.preemptionPolicy !== undefined && spec.preemptionPolicy !== null && spec.preemptionPolicy !== policy)
      throw forbidden(
        ref,
        `the string value of PreemptionPolicy (${spec.preemptionPolicy}) must not be provided in pod spec; priority admission controller computed ${policy} from the given PriorityClass name`,
      );
    spec.preemptionPolicy = policy;
  }
  spec.preemptionPolicy ??= 'PreemptLowerPriority';
}

/** On update the Priority plugin keeps what create computed when the client leaves it out. */
export function keepPodPriority(pod: Obj, old: Obj): void {
  if (!isObject(pod.spec) || !isObject(old.spec)) return;
  if (pod.spec.priority === undefined && old.spec.priority !== undefined) pod.spec.priority = old.spec.priority;
  if (pod.spec.preemptionPolicy === undefined && old.spec.preemptionPolicy !== undefined)
    pod.spec.preemptionPolicy = old.spec.preemptionPolicy;
}
