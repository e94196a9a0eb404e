/** An error from a failed file-system call, as Node reports it: `code` (ENOENT), `syscall` (open) and `path`. */
export interface FileSystemError extends Error {
  code: string;
  syscall: string;
  path: string;
}

export function isFileSystemError(error: unknown): error is FileSystemError {
  const fields = error as Partial<FileSystemError> | null;
  return error instanceof Error && typeof fields?.code === 'string' && typeof fields.syscall === 'string' && typeof fields.path === 'string';
}

const VERBS: Record<string, string> = { open: 'open', mkdir: 'create', scandir: 'list', unlink: 'remove', rmdir: 'remove', chmod: 'change the mode of', fchmod: 'change the mode of' };

/** The failure in one line for an operator, e.g. "cannot open /etc/relaygate/policy.json: no such file or directory". */
export function fileSystemProblem(error: FileSystemError): string {
  // Node's message is "ENOENT: no such file or directory, open '/path'": keep the description in the middle.
  const description = error.message.startsWith(`${error.code}: `) ? error.message.slice(error.code.length + 2).replace(/, \w+ '.*$/s, '') : error.message;
  return `cannot ${VERBS[error.syscall] ?? error.syscall} ${error.path}: ${description}`;
}

/** A listening socket that could not be opened, as Node reports it: `code`, `syscall` (listen, or bind in a cluster worker), `address` and `port`. */
export interface ListenError extends Error {
  code: string;
  syscall: 'listen' | 'bind';
  address: string;
  port: number;
}

export function isListenError(error: unknown): error is ListenError {
  const fields = error as Partial<ListenError> | null;
  return error instanceof Error && typeof fields?.code === 'string' && (fields.syscall === 'listen' || fields.syscall === 'bind') && typeof fields.address === 'string' && typeof fields.port === 'number';
}

const LISTEN_FAILURES: Record<string, string> = {
  EADDRINUSE: 'the address is in use (another process listens there)',
  EACCES: 'permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)',
  EADDRNOTAVAIL: 'the address is not one of this host',
};

/** The failure in one line for an operator, e.g. "cannot listen on 127.0.0.1:587: the address is in use (another process listens there)". */
export function listenProblem(error: ListenError): string {
  const host = error.address.includes(':') ? `[${error.address}]` : error.address;
  return `cannot listen on ${host}:${error.port}: ${LISTEN_FAILURES[error.code] ?? error.code}`;
}
