// placeholder replaced below
export async function openEtcdStore(_: unknown): Promise<never> {
  throw new Error('etcd backend not built yet');
}
