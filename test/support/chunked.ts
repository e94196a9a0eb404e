/** `data` cut into pieces of `size` bytes (the last may be shorter), as a stream would deliver it. */
export const chunked = (data: Buffer, size: number): Buffer[] =>
  Array.from({ length: Math.ceil(data.length / size) }, (_, index) => data.subarray(index * size, (index + 1) * size));
