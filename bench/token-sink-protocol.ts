/** Requests the bench sends its token sink (token-sink.ts) over the IPC channel, and the replies, matched by id. */
export type SinkRequest =
  | { id: number; type: 'expect'; tag: string; sampleEvery: number }
  | { id: number; type: 'status'; tag: string }
  | { id: number; type: 'result'; tag: string }
  | { id: number; type: 'usage' };

export type SinkReply =
  | { id: number; type: 'ok' }
  /** `lastNewAt`: epoch ms of the last message of the run that was not a copy, 0 before the first. */
  | { id: number; type: 'status'; distinct: number; lastNewAt: number }
  /** `received`: the indexes that arrived at least once; `samples`: [index, the message as sent] of the sampled ones. */
  | { id: number; type: 'result'; received: number[]; duplicates: number; samples: Array<[number, Uint8Array]> }
  /** The sink's own CPU time and messages so far, and the messages it could not count for any run, by reason. */
  | { id: number; type: 'usage'; cpuMs: number; messages: number; strays: Record<string, number> };
