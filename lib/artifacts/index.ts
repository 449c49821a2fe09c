/** `dk.artifacts`: the artifact cache (activations, adversarial sets, checkpoints), the verified container, atomic writes. */
export { ArtifactCache, type ArtifactCacheOptions, type CacheHit } from './cache';
export { ContainerError, readContainer, writeContainer } from './container';
export { writeFileAtomic } from './atomic';
export { defaultCacheDir, repoRoot } from './repo';
