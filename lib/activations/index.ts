/** `dk.activations`: named-layer activations of a model, batched, on worker threads, through the cache. */
export { extractActivations, type Activations, type ExtractActivationsOptions, type LayerActivations } from './extract';
export { cachedActivations, type CachedActivations, type CachedActivationsOptions } from './cache';
export { closeActivationPools } from './pool';
