export { DkimError } from './dkim-error.js';
export { dkimRecordName, dkimTxtRecord } from './dns-record.js';
export { generateDkimKey, publicKeyFromPrivate } from './keys.js';
export type { DkimAlgorithm, DkimKey, DkimKeyKind, DkimPublicKey } from './keys.js';
export { DEFAULT_SIGNED_HEADERS, signMessage } from './sign.js';
export type { DkimSigner, SignOptions } from './sign.js';
