import { ANY_RESOURCE } from './api-authorization.js';
import type { ApiRequest, Params } from './api-context.js';

/** The resource an operation acts on, for the IAM check (an ARN, or `*`). */
export type ResourceOf = (request: ApiRequest, labels: string[], body: Params) => string;

/** One SES v2 operation: its method and path (labels captured in order) and what it answers (a JSON object). */
export interface Route {
  method: string;
  path: RegExp;
  operation: string;
  /** Where IAM checks `ses:<operation>`; null for a send, which the send policy checks. */
  resource: ResourceOf | null;
  handle(request: ApiRequest, labels: string[], body: Params, query: URLSearchParams): Promise<object>;
}

const LABEL = '([^/]+)';
const path = (pattern: string) => new RegExp(`^${pattern.replace(/\{\w+\}/g, LABEL)}$`);

export const route = (method: string, pattern: string, operation: string, handle: Route['handle'], resource: ResourceOf | null = () => ANY_RESOURCE): Route => ({
  method,
  path: path(pattern),
  operation,
  resource,
  handle,
});
