// Cluster IP and node port allocation for services, without collisions, rebuilt from stored services at start.
// Dynamic IPs come from the upper band of the range first (KEP-3070), leaving the lower band for static choices.
import type { FieldError } from '../api/status.js';
import type { Obj, ServiceAllocator } from './types.js';

export function ipToInt(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function parseCidr(cidr: string): { base: number; size: number } {
  const [ip, bits] = cidr.split('/');
  const b = Number(bits);
  const base = ip ? ipToInt(ip) : undefined;
  if (base === undefined || !Number.isInteger(b) || b < 8 || b > 30) throw new Error(`invalid service CIDR ${cidr}`);
  const size = 2 ** (32 - b);
  return { base: base - (base % size), size };
}

export interface AllocatorOptions {
  serviceCidr?: string;
  nodePortRange?: [number, number];
}

export class ServiceIpAllocator implements ServiceAllocator {
  readonly cidr: string;
  private readonly base: number;
  private readonly size: number;
  private readonly ips = new Set<number>();
  private readonly ports = new Set<number>();
  private readonly portMin: number;
  private readonly portMax: number;

  constructor(opts: AllocatorOptions = {}) {
    this.cidr = opts.serviceCidr ?? '10.96.0.0/12';
    ({ base: this.base, size: this.size } = parseCidr(this.cidr));
    [this.portMin, this.portMax] = opts.nodePortRange ?? [30000, 32767];
  }

  /** The first address of the range, reserved for the `kubernetes` service. */
  get firstIp(): string {
    return intToIp(this.base + 1);
  }

  /** Marks what an already stored service holds (start-up rebuild). */
  restore(svc: Obj): void {
    for (const ip of clusterIps(svc)) {
      const n = ipToInt(ip);
      if (n !== undefined) this.ips.add(n);
    }
    for (const p of nodePorts(svc)) this.ports.add(p);
  }

  reserve(svc: Obj, old: Obj | undefined): FieldError[] {
    const errors: FieldError[] = [];
    const spec = svc.spec;
    if (!spec || typeof spec !== 'object') return errors;
    const taken: number[] = [];
    const takenPorts: number[] = [];
    const fail = (e: FieldError) => {
      errors.push(e);
    };
    const oldIps = new Set(old ? clusterIps(old) : []);
    if (spec.type === 'ExternalName') {
      // ExternalName services hold no IP.
    } else if (spec.clusterIP === 'None') {
      spec.clusterIPs = ['None'];
    } else {
      const requested: string | undefined = spec.clusterIP || spec.clusterIPs?.[0] || undefined;
      if (requested && !oldIps.has(requested)) {
        const n = ipToInt(requested);
        if (n === undefined)
          fail({
            type: 'FieldValueInvalid',
            field: 'spec.clusterIPs[0]',
            message: `Invalid value: "${requested}": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)`,
          });
        else if (n <= this.base || n >= this.base + this.size - 1)
          fail({
            type: 'FieldValueInvalid',
            field: 'spec.clusterIPs',
            message: `Invalid value: []string{"${requested}"}: failed to allocate IP ${requested}: the provided IP (${requested}) is not in the valid range. The range of valid IPs is ${this.cidr}`,
          });
        else if (this.ips.has(n))
          fail({
            type: 'FieldValueInvalid',
            field: 'spec.clusterIPs',
            message: `Invalid value: []string{"${requested}"}: failed to allocate IP ${requested}: provided IP is already allocated`,
          });
        else {
          this.ips.add(n);
          taken.push(n);
        }
      } else if (!requested) {
        const n = this.nextIp();
        if (n === undefined)
          fail({ type: 'FieldValueInvalid', field: 'spec.clusterIPs', message: 'Internal error: range is full' });
        else {
          this.ips.add(n);
          taken.push(n);
          spec.clusterIP = intToIp(n);
        }
      }
      if (spec.clusterIP) spec.clusterIPs = [spec.clusterIP];
    }
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
      const oldPorts = new Set(old ? nodePorts(old) : []);
      const wantsAlloc = spec.type === 'NodePort' || spec.allocateLoadBalancerNodePorts !== false;
      (Array.isArray(spec.ports) ? spec.ports : []).forEach((p: Obj, i: number) => {
        if (!p || typeof p !== 'object') return;
        if (p.nodePort !== undefined && p.nodePort !== null && p.nodePort !== 0) {
          const np = p.nodePort;
          if (oldPorts.has(np) || takenPorts.includes(np)) return;
          if (!Number.isInteger(np) || np < this.portMin || np > this.portMax)
            fail({
              type: 'FieldValueInvalid',
              field: `spec.ports[${i}].nodePort`,
              message: `Invalid value: ${np}: provided port is not in the valid range. The range of valid ports is ${this.portMin}-${this.portMax}`,
            });
          else if (this.ports.has(np))
            fail({
              type: 'FieldValueInvalid',
              field: `spec.ports[${i}].nodePort`,
              message: `Invalid value: ${np}: provided port is already allocated`,
            });
          else {
            this.ports.add(np);
            takenPorts.push(np);
          }
        } else if (wantsAlloc) {
          const np = this.nextPort();
          if (np === undefined)
            fail({
              type: 'FieldValueInvalid',
              field: `spec.ports[${i}].nodePort`,
              message: 'Internal error: range is full',
            });
          else {
            this.ports.add(np);
            takenPorts.push(np);
            p.nodePort = np;
          }
        }
      });
    } else if (Array.isArray(spec.ports)) {
      for (const p of spec.ports) if (p && typeof p === 'object') delete p.nodePort;
    }
    if (errors.length) {
      for (const n of taken) this.ips.delete(n);
      for (const p of takenPorts) this.ports.delete(p);
    }
    return errors;
  }

  release(svc: Obj, keep?: Obj): void {
    const keepIps = new Set(keep ? clusterIps(keep) : []);
    const keepPorts = new Set(keep ? nodePorts(keep) : []);
    for (const ip of clusterIps(svc)) {
      const n = ipToInt(ip);
      if (n !== undefined && !keepIps.has(ip)) this.ips.delete(n);
    }
    for (const p of nodePorts(svc)) if (!keepPorts.has(p)) this.ports.delete(p);
  }

  private nextIp(): number | undefined {
    const usable = this.size - 2;
    // Lower band reserved for static IPs: min(max(16, size/16), 256) addresses (KEP-3070).
    const lower = Math.min(Math.max(16, Math.floor(this.size / 16)), 256);
    const scan = (from: number, to: number): number | undefined => {
      if (to <= from) return undefined;
      const span = to - from;
      const start = from + Math.floor(Math.random() * span);
      for (let i = 0; i < span; i++) {
        const off = from + ((start - from + i) % span);
        const n = this.base + 1 + off;
        if (!this.ips.has(n)) return n;
      }
      return undefined;
    };
    return scan(lower, usable) ?? scan(0, Math.min(lower, usable));
  }

  private nextPort(): number | undefined {
    const span = this.portMax - this.portMin + 1;
    const start = Math.floor(Math.random() * span);
    for (let i = 0; i < span; i++) {
      const p = this.portMin + ((start + i) % span);
      if (!this.ports.has(p)) return p;
    }
    return undefined;
  }
}

function clusterIps(svc: Obj): string[] {
  const spec = svc?.spec ?? {};
  const ips: string[] = Array.isArray(spec.clusterIPs) ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
  return ips.filter((ip) => typeof ip === 'string' && ip !== 'None' && ip !== '');
}

function nodePorts(svc: Obj): number[] {
  const ports = svc?.spec?.ports;
  return Array.isArray(ports)
    ? ports.map((p: Obj) => p?.nodePort).filter((n: unknown): n is number => Number.isInteger(n) && (n as number) > 0)
    : [];
}
