import type { HeaderField, HeaderFields } from './header-section.js';

/** The SES control headers a client may send; each takes the first instance, as SES does. */
export interface SesControlHeaders {
  configurationSet?: string;
  messageTags?: string;
  sourceArn?: string;
  fromArn?: string;
  returnPathArn?: string;
  listManagementOptions?: string;
}

const CONTROL_HEADERS: ReadonlyArray<[keyof SesControlHeaders, string]> = [
  ['configurationSet', 'X-SES-CONFIGURATION-SET'],
  ['messageTags', 'X-SES-MESSAGE-TAGS'],
  ['sourceArn', 'X-SES-SOURCE-ARN'],
  ['fromArn', 'X-SES-FROM-ARN'],
  ['returnPathArn', 'X-SES-RETURN-PATH-ARN'],
  ['listManagementOptions', 'X-SES-LIST-MANAGEMENT-OPTIONS'],
];

export const isSesHeader = (field: HeaderField): boolean => field.name.toLowerCase().startsWith('x-ses-');

export function readSesControlHeaders(headers: HeaderFields): SesControlHeaders {
  const control: SesControlHeaders = {};
  for (const [key, name] of CONTROL_HEADERS) {
    const value = headers.first(name);
    if (value !== undefined) control[key] = value;
  }
  return control;
}
