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
