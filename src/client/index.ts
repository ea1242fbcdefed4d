// Public surface of the Kubernetes client: createClient, the informer and resource addresses.
export type * from './types.js';
export { createClient } from './create.js';
export type { ClientConfig } from './create.js';
export { createInformer, keyOf } from './informer.js';
export type { Informer, InformerOptions, IndexFunc } from './informer.js';
export * as resources from './resources.js';
export { resourcePath } from './paths.js';
export { loadKubeconfig, defaultKubeconfigPath } from './kubeconfig.js';
export type { ConnectionConfig } from './kubeconfig.js';
export { statusFromResponse } from './errors.js';
