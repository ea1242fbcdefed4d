// ImageLocality score: favours nodes that already hold the pod's images, scaled by how widely each image has
// spread (upstream plugins/imagelocality: 23 MiB floor, 1000 MiB per container ceiling, no normalisation).
import { idiv, MaxNodeScore, type ScorePlugin } from '../framework.js';

const mb = 1024 * 1024;
export const minThreshold = 23 * mb;
export const maxContainerThreshold = 1000 * mb;

/** normalizedImageName: an image without a tag gets ":latest". */
export function normalizedImageName(name: string): string {
  return name.lastIndexOf(':') <= name.lastIndexOf('/') ? `${name}:latest` : name;
}

/** calculatePriority: the summed scaled image sizes mapped linearly onto 0..100 between the thresholds. */
export function imagePriority(sumScores: number, numContainers: number): number {
  const maxThreshold = maxContainerThreshold * numContainers;
  let s = sumScores;
  if (s < minThreshold) s = minThreshold;
  else if (s > maxThreshold) s = maxThreshold;
  return idiv(MaxNodeScore * (s - minThreshold), maxThreshold - minThreshold);
}

export const imageLocality: ScorePlugin<string[]> = {
  name: 'ImageLocality',
  preScore: (ctx) =>
    [...(ctx.pod.pod.spec?.initContainers ?? []), ...(ctx.pod.pod.spec?.containers ?? [])].map((c) =>
      normalizedImageName(c.image ?? ''),
    ),
  score(ctx, images, node) {
    const total = ctx.snapshot.size;
    let sum = 0;
    for (const image of images) {
      const size = node.images.get(image);
      if (size === undefined) continue;
      // scaledImageScore: int64(float64(size) * (numNodes / totalNodes))
      sum += Math.trunc(size * ((ctx.snapshot.imageNodes.get(image) ?? 0) / total));
    }
    return imagePriority(sum, images.length);
  },
};
