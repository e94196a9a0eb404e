export type DeliveryResolutionErrorCode =
  | 'NULL_MX'
  | 'NXDOMAIN'
  | 'NO_MX_ADDRESSES'
  | 'DNS_TEMPORARY'
  | 'PRIVATE_TARGETS_REFUSED';

/** Why a recipient domain has no usable delivery target. The message is written to serve as a bounce diagnostic. */
export class DeliveryResolutionError extends Error {
  override readonly name = 'DeliveryResolutionError';

  constructor(
    readonly code: DeliveryResolutionErrorCode,
    readonly permanent: boolean,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
