export { createResolver, type ResolverOptions } from './resolver.js';
export {
  resolveDeliveryTargets,
  type DeliveryTarget,
  type ResolveDeliveryTargetsOptions,
} from './delivery-targets.js';
export { DeliveryResolutionError, type DeliveryResolutionErrorCode } from './delivery-resolution-error.js';
export { nonPublicAddressReason } from './non-public-address.js';
