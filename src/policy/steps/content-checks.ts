import { Splitter } from '@zone-eu/mailsplit';
import { pipeStreams } from '../../common/pipe-streams.js';
import { MAX_HEADER_SECTION_BYTES } from '../../message/message-reader.js';
import { isPastMimeLimits, mimeHeadSizeFor } from '../../message/transport-encoding.js';
import { PolicyReplies } from '../policy-replies.js';
import type { PolicyStep } from '../send-policy.js';

/** Header fields SES accepts only once in a message's header section (the guide's list). */
export const SINGLE_INSTANCE_HEADERS = [
  'Accept-Language', 'acceptLanguage', 'Archived-At', 'Auto-Submitted', 'Bounces-to', 'Comments', 'Content-Alternative', 'Content-Base',
  'Content-Class', 'Content-Description', 'Content-Disposition', 'Content-Duration', 'Content-ID', 'Content-Language', 'Content-Length',
  'Content-Location', 'Content-MD5', 'Content-Transfer-Encoding', 'Content-Type', 'Date', 'Delivered-To', 'Disposition-Notification-Options',
  'Disposition-Notification-To', 'DKIM-Signature', 'DomainKey-Signature', 'Errors-To', 'From', 'Importance', 'In-Reply-To', 'Keywords',
  'List-Archive', 'List-Help', 'List-Id', 'List-Owner', 'List-Post', 'List-Subscribe', 'List-Unsubscribe', 'Message-Context', 'Message-ID',
  'MIME-Version', 'Organization', 'Original-From', 'Original-Message-ID', 'Original-Recipient', 'Original-Subject', 'Precedence', 'Priority',
  'References', 'Reply-To', 'Return-Path', 'Return-Receipt-To', 'Sender', 'Solicitation', 'Sensitivity', 'Subject', 'Thread-Index',
  'Thread-Topic', 'User-Agent', 'VBR-Info',
] as const;

const SINGLE_BY_LOWER = new Map<string, string>(SINGLE_INSTANCE_HEADERS.map((name) => [name.toLowerCase(), name]));

/** A single-instance header that appears twice: `554 Transaction failed: Duplicate header 'NAME'.` */
export const noDuplicateHeaders: PolicyStep = {
  name: 'duplicate-headers',
  async check(context) {
    const seen = new Set<string>();
    for (const field of context.request.headers.fields) {
      const canonical = SINGLE_BY_LOWER.get(field.name.toLowerCase());
      if (!canonical) continue;
      if (seen.has(canonical)) return PolicyReplies.duplicateHeader(canonical);
      seen.add(canonical);
    }
    return undefined;
  },
};

/** The guide's unsupported attachment types. */
export const BLOCKED_EXTENSIONS = new Set(
  ('ade adp app asp bas bat cer chm cmd com cpl crt csh der exe fxp gadget hlp hta inf ins isp its js jse ksh lib lnk mad maf mag mam maq mar ' +
    'mas mat mau mav maw mda mdb mde mdt mdw mdz msc msh msh1 msh1xml msh2 msh2xml mshxml msi msp mst ops pcd pif plg prf prg ps1 ps1xml ps2 ' +
    'ps2xml psc1 psc2 reg scf scr sct shb shs sys tmp url vb vbe vbs vps vsmacros vss vst vsw vxd ws wsc wsf wsh xnk')
    .split(' '),
);

export const isBlockedFilename = (filename: string): boolean => {
  const dot = filename.lastIndexOf('.');
  return dot !== -1 && BLOCKED_EXTENSIONS.has(filename.slice(dot + 1).trim().toLowerCase());
};

/**
 * Only messages that can carry a file name need their MIME structure walked. A "name" parameter may be written
 * `name=`, `name*=` or `name*0*=` with spaces between: one character class covers them all in linear time (three
 * optional runs of spaces in a row backtrack cubically on a client's long run of folding whitespace).
 */
function mayHaveAttachments(contentType: string | undefined, disposition: string | undefined): boolean {
  return /^\s*multipart\//i.test(contentType ?? '') || /name[\s*\d]*=/i.test(`${contentType ?? ''};${disposition ?? ''}`);
}

/** The first MIME part whose (decoded, RFC 2047/2231) file name has a blocked extension. */
function findBlockedAttachment(message: NodeJS.ReadableStream): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const splitter = new Splitter({ maxHeadSize: mimeHeadSizeFor(MAX_HEADER_SECTION_BYTES) });
    let found: string | undefined;
    splitter.on('data', (chunk) => {
      if (found === undefined && chunk.type === 'node' && chunk.filename && isBlockedFilename(chunk.filename)) found = chunk.filename;
    });
    // A splitter past its limits stops reading: the message (a spool file's read stream, say) is destroyed with it.
    pipeStreams([message, splitter as unknown as NodeJS.WritableStream], (error) => (error ? reject(error) : resolve(found)));
  });
}

/** Attachments with the guide's blocked extensions are refused, naming the file. */
export const noBlockedAttachments: PolicyStep = {
  name: 'blocked-attachments',
  async check(context) {
    const { headers } = context.request;
    if (!mayHaveAttachments(headers.first('Content-Type'), headers.first('Content-Disposition'))) return undefined;
    let blocked: string | undefined;
    try {
      blocked = await findBlockedAttachment(context.request.openMessage());
    } catch (error) {
      if (isPastMimeLimits(error)) return PolicyReplies.mimeTooLarge();
      throw error;
    }
    return blocked === undefined ? undefined : PolicyReplies.blockedAttachment(blocked);
  },
};
