// apps/v1 deployments and replicasets: defaults (apps/v1 SetDefaults_*), validation, scale, tables.
import { selectorFromObject, matches, formatSelector, SelectorError } from '../../api/selectors.js';
import {
  Errors,
  isObject,
  validateMeta,
  validateLabels,
  validateNonNegativeInt,
  validateIntOrPercent,
  immutable,
} from '../validation.js';
import { age, col, ageColumn, formatLabelSelector, joinOr } from '../tables.js';
import { kindSchema, podTemplate, labelSelector } from '../schema.js';
import { defaultPodSpec, validatePodSpec } from './pods.js';
import type { Obj, ResourceDef } from '../types.js';

function defaultTemplate(spec: Obj): void {
  if (isObject(spec.template) && isObject(spec.template.spec)) defaultPodSpec(spec.template.spec);
  if (isObject(spec.template)) spec.template.metadata ??= {};
  if (isObject(spec.template?.metadata)) spec.template.metadata.creationTimestamp ??= null;
}

/** Selector/template checks shared by deployments and replicasets (ValidateDeploymentSpec / ValidateReplicaSetSpec). */
function validateWorkloadSpec(obj: Obj, old: Obj | undefined, errs: Errors): void {
  const spec = obj.spec;
  if (!isObject(spec)) return errs.required('spec');
  validateNonNegativeInt(spec.replicas, 'spec.replicas', errs);
  validateNonNegativeInt(spec.minReadySeconds, 'spec.minReadySeconds', errs);
  if (!isObject(spec.selector)) errs.required('spec.selector');
  else {
    let selector;
    try {
      selector = selectorFromObject(spec.selector);
    } catch (e) {
      errs.invalid('spec.selector', spec.selector, (e as SelectorError).message);
    }
    if (selector && selector.length === 0)
      errs.invalid('spec.selector', spec.selector, 'empty selector is invalid for deployment');
    validateLabels(spec.selector.matchLabels, 'spec.selector.matchLabels', errs);
    const labels = spec.template?.metadata?.labels;
    if (selector && selector.length > 0 && !matches(selector, labels))
      errs.invalid('spec.template.metadata.labels', labels ?? {}, '`selector` does not match template `labels`');
  }
  if (!isObject(spec.template)) return errs.required('spec.template');
  validateLabels(spec.template.metadata?.labels, 'spec.template.metadata.labels', errs);
  validatePodSpec(spec.template.spec, 'spec.template.spec', errs, { template: true });
  const rp = spec.template.spec?.restartPolicy;
  if (rp !== undefined && rp !== 'Always') errs.notSupported('spec.template.spec.restartPolicy', rp, ['Always']);
  if (old) immutable(spec.selector, old.spec?.selector, 'spec.selector', errs);
}

function images(obj: Obj): [string, string] {
  const cs: Obj[] = obj.spec?.template?.spec?.containers ?? [];
  return [joinOr(cs.map((c) => c.name)), joinOr(cs.map((c) => c.image))];
}

function scaleOf(): ResourceDef['scale'] {
  return {
    replicas: (o) => o.spec?.replicas ?? 0,
    statusReplicas: (o) => o.status?.replicas ?? 0,
    selector: (o) => {
      try {
        return formatSelector(selectorFromObject(o.spec?.selector));
      } catch {
        return '';
      }
    },
    setReplicas: (o, n) => {
      o.spec ??= {};
      o.spec.replicas = n;
    },
  };
}

const wideColumns = [
  col('Containers', 'string', 'Names of each container in the template.', 1),
  col('Images', 'string', 'Images referenced by each container in the template.', 1),
  col(
    'Selector',
    'string',
    'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.',
    1,
  ),
];

export const deployments: ResourceDef = {
  group: 'apps',
  version: 'v1',
  resource: 'deployments',
  singular: 'deployment',
  kind: 'Deployment',
  namespaced: true,
  shortNames: ['deploy'],
  categories: ['all'],
  storage: 'deployments.apps',
  subresources: ['status', 'scale'],
  hasStatus: true,
  schema: kindSchema({
    spec: {
      replicas: true,
      selector: labelSelector,
      template: podTemplate,
      strategy: { type: true, rollingUpdate: { maxUnavailable: true, maxSurge: true } },
      minReadySeconds: true,
      revisionHistoryLimit: true,
      paused: true,
      progressDeadlineSeconds: true,
    },
    status: true,
  }),
  prepareCreate(obj) {
    obj.status = {};
  },
  defaults(obj) {
    const spec = obj.spec;
    if (!isObject(spec)) return;
    spec.replicas ??= 1;
    spec.strategy ??= {};
    if (isObject(spec.strategy)) {
      spec.strategy.type ??= 'RollingUpdate';
      if (spec.strategy.type === 'RollingUpdate') {
        spec.strategy.rollingUpdate ??= {};
        spec.strategy.rollingUpdate.maxUnavailable ??= '25%';
        spec.strategy.rollingUpdate.maxSurge ??= '25%';
      }
    }
    spec.revisionHistoryLimit ??= 10;
    spec.progressDeadlineSeconds ??= 600;
    defaultTemplate(spec);
  },
  validate(obj, old) {
    const errs = new Errors();
    validateMeta(obj.metadata, errs, { namespaced: true, nameRule: 'subdomain' });
    validateWorkloadSpec(obj, old, errs);
    const st = obj.spec?.strategy;
    if (isObject(st)) {
      if (!['RollingUpdate', 'Recreate'].includes(st.type))
        errs.notSupported('spec.strategy.type', st.type, ['Recreate', 'RollingUpdate']);
      if (st.type === 'Recreate' && st.rollingUpdate)
        errs.forbidden('spec.strategy.rollingUpdate', "may not be specified when strategy `type` is 'Recreate'");
      if (isObject(st.rollingUpdate)) {
        validateIntOrPercent(st.rollingUpdate.maxUnavailable, 'spec.strategy.rollingUpdate.maxUnavailable', errs);
        validateIntOrPercent(st.rollingUpdate.maxSurge, 'spec.strategy.rollingUpdate.maxSurge', errs);
        const zero = (v: unknown) => v === 0 || v === '0%';
        if (zero(st.rollingUpdate.maxUnavailable) && zero(st.rollingUpdate.maxSurge))
          errs.invalid(
            'spec.strategy.rollingUpdate.maxUnavailable',
            st.rollingUpdate.maxUnavailable,
            'may not be 0 when `maxSurge` is 0',
          );
      }
    }
    validateNonNegativeInt(obj.spec?.revisionHistoryLimit, 'spec.revisionHistoryLimit', errs);
    const pd = obj.spec?.progressDeadlineSeconds;
    if (pd !== undefined && pd !== null && (!Number.isInteger(pd) || pd <= (obj.spec?.minReadySeconds ?? 0)))
      errs.invalid('spec.progressDeadlineSeconds', pd, 'must be greater than minReadySeconds');
    return errs.list;
  },
  scale: scaleOf(),
  table: {
    columns: [
      col('Ready', 'string', 'Number of the pod with ready state'),
      col(
        'Up-to-date',
        'string',
        'Total number of non-terminated pods targeted by this deployment that have the desired template spec.',
      ),
      col(
        'Available',
        'string',
        'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.',
      ),
      ageColumn,
      ...wideColumns,
    ],
    cells(d, now) {
      const s = d.status ?? {};
      const [names, imgs] = images(d);
      return [
        `${s.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}`,
        s.updatedReplicas ?? 0,
        s.availableReplicas ?? 0,
        age(d.metadata?.creationTimestamp, now),
        names,
        imgs,
        formatLabelSelector(d.spec?.selector),
      ];
    },
  },
};

export const replicasets: ResourceDef = {
  group: 'apps',
  version: 'v1',
  resource: 'replicasets',
  singular: 'replicaset',
  kind: 'ReplicaSet',
  namespaced: true,
  shortNames: ['rs'],
  categories: ['all'],
  storage: 'replicasets.apps',
  subresources: ['status', 'scale'],
  hasStatus: true,
  schema: kindSchema({
    spec: { replicas: true, minReadySeconds: true, selector: labelSelector, template: podTemplate },
    status: true,
  }),
  prepareCreate(obj) {
    obj.status = { replicas: 0 };
  },
  defaults(obj) {
    if (!isObject(obj.spec)) return;
    obj.spec.replicas ??= 1;
    defaultTemplate(obj.spec);
  },
  validate(obj, old) {
    const errs = new Errors();
    validateMeta(obj.metadata, errs, { namespaced: true, nameRule: 'subdomain' });
    validateWorkloadSpec(obj, old, errs);
    return errs.list;
  },
  scale: scaleOf(),
  table: {
    columns: [
      col('Desired', 'integer', 'Replicas is the number of desired replicas.'),
      col('Current', 'integer', 'Replicas is the most recently observed number of replicas.'),
      col('Ready', 'integer', 'The number of ready replicas for this replica set.'),
      ageColumn,
      ...wideColumns.slice(0, 2),
      col('Selector', 'string', 'Selector is a label query over pods that should match the replica count.', 1),
    ],
    cells(rs, now) {
      const [names, imgs] = images(rs);
      return [
        rs.spec?.replicas ?? 0,
        rs.status?.replicas ?? 0,
        rs.status?.readyReplicas ?? 0,
        age(rs.metadata?.creationTimestamp, now),
        names,
        imgs,
        formatLabelSelector(rs.spec?.selector),
      ];
    },
  },
};
