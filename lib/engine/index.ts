/** `dk.engine`: the tfjs backend the library runs on, and where its convolutions run. */
export { backendInfo, initBackend, type BackendInfo, type BackendName, type InitBackendOptions } from './backend';
export { engineKey, wasmKernelMode, type ConvKernelChoice, type WasmKernelMode } from './kernels';
