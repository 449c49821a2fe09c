/** The artefact layer: repository paths, keys, the verified container, the cache, atomic writes. */
export { repoRoot, defaultCacheDir, gitCommit } from './repo';
export { cacheKey, canonicalJson, sha256Of, IO_CHUNK_BYTES } from './keys';
export { ContainerError, readContainer, writeContainer, type ContainerArray, type ContainerContent, type ContainerDtype, type ContainerValues, type ReadContainerOptions, type StoredArray } from './container';
export { ArtefactCache, type ArtefactCacheOptions, type CacheHit } from './cache';
export { checkWritableDir, ensureDir, removeStaleTempFiles, writeFileAtomic } from './atomic';
