import type { Logger } from 'pino';
import type { GatewayConfig } from '../../config/schema.js';
import type { SendStatisticsStore } from '../../queue/send-statistics.js';
import type { SendLimiter } from '../../ratelimit/index.js';
import type { Account, ControlStore } from '../../store/control-store.js';
import type { SubmissionServices } from '../../submission/submit-message.js';
import { ApiError } from './api-error.js';
import type { ApiCaller } from './api-send.js';

/** What the API operations work with. */
export interface ApiServices {
  config: GatewayConfig;
  store: ControlStore;
  limiter: SendLimiter;
  statistics: SendStatisticsStore;
  submission: SubmissionServices;
  log: Logger;
}

/** One authenticated request, acting for the credential's account. */
export interface ApiRequest {
  services: ApiServices;
  caller: ApiCaller;
  accountId: string;
}

/** The caller's account, for the operations that report or change its settings. */
export async function accountOf(request: ApiRequest): Promise<Account> {
  const account = await request.services.store.accounts.get(request.accountId);
  if (!account) throw new ApiError('UnrecognizedClientException', 403, 'The security token included in the request is invalid.');
  return account;
}

/** Reads request parameters (JSON members or Query parameters) with SES's BadRequest for a wrong type. */
export class Params {
  constructor(
    private readonly values: Record<string, unknown>,
    private readonly invalid: (message: string) => Error,
  ) {}

  optionalString(name: string): string | undefined {
    const value = this.values[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw this.invalid(`${name} must be a string`);
    return value;
  }

  string(name: string): string {
    const value = this.optionalString(name);
    if (value === undefined || value === '') throw this.invalid(`${name} is required`);
    return value;
  }

  optionalNumber(name: string): number | undefined {
    const value = this.values[name];
    if (value === undefined || value === null) return undefined;
    const number = typeof value === 'string' ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isFinite(number)) throw this.invalid(`${name} must be a number`);
    return number;
  }

  optionalBoolean(name: string): boolean | undefined {
    const value = this.values[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'boolean') return value;
    if (value === 'true' || value === 'false') return value === 'true';
    throw this.invalid(`${name} must be true or false`);
  }

  optionalObject(name: string): Params | undefined {
    const value = this.values[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'object' || Array.isArray(value)) throw this.invalid(`${name} must be an object`);
    return new Params(value as Record<string, unknown>, this.invalid);
  }

  stringList(name: string): string[] | undefined {
    const value = this.values[name];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) throw this.invalid(`${name} must be a list of strings`);
    return value as string[];
  }

  objectList(name: string): Params[] {
    const value = this.values[name];
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value) || value.some((item) => typeof item !== 'object' || item === null)) throw this.invalid(`${name} must be a list of objects`);
    return (value as Array<Record<string, unknown>>).map((item) => new Params(item, this.invalid));
  }
}
