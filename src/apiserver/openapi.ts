// /openapi/v2 and /openapi/v3: what kubectl needs to run its default validation.
// An empty body is a valid, empty protobuf OpenAPI v2 document: kubectl then finds no schema for built-in kinds,
// skips client-side checks and sends fieldValidation=Strict, which the server enforces from schema.ts
// (verified against kubectl 1.27–1.33, see shared/reference/kubectl-and-control-plane.md §1.2).
export const openapiV2ContentType = 'application/octet-stream';

export function openapiV2Body(): Buffer {
  return Buffer.alloc(0);
}
