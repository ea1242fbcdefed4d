// The contract between the proxy runner and a data plane (nftables, iptables): apply desired-state changes.
import type { ServicePortState } from './types.js';

export interface SyncReport {
  /** The whole table was (re)built. */
  full: boolean;
  /** Kernel operations sent (elements, or rules for iptables). */
  operations: number;
  /** Wall time of the sync in ms. */
  ms: number;
}

export interface DataPlane {
  readonly kind: string;
  /**
   * Brings the kernel to the desired state for the changed service ports (null = the port is gone). The first
   * call, and the first after a failure, rebuilds everything it knows. Throws when the kernel refused.
   */
  sync(changes: ReadonlyMap<string, ServicePortState | null>): Promise<SyncReport>;
  close(): Promise<void>;
}
