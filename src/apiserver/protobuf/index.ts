// Decodes Kubernetes protobuf request bodies (the `k8s\0` envelope) into the JSON-shaped object kubectl would send.
/** Throws StatusError 415/400 when the body is not a protobuf object of a kind skiff can decode. */
export function decodeProtobuf(body: Buffer | Uint8Array): unknown {
  throw new Error('not implemented yet');
}
