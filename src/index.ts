// skiff's library surface: what `import … from 'skiff'` offers.
export * as quantity from './api/quantity.js';
export * as selectors from './api/selectors.js';
export { StatusError } from './api/status.js';
export type { Store, KeyValue, WatchEvent } from './store/types.js';
