/**
 * mbox files (RFC 4155 application/mbox; the mboxo and mboxrd variants): messages separated by
 * "From " lines at the start of a line. Read as a stream: memory holds one message at a time, never
 * the whole file.
 */
import { createReadStream } from 'fs';

/** One message from an mbox file. */
export interface MboxMessage {
  /** The message bytes without the "From " separator line, with ">From " unescaped. */
  readonly raw: Uint8Array;
  /** The separator line without "From " and the line end, e.g. "alice@example.com Tue Aug  6 11:51:02 2002". */
  readonly envelope: string;
  /** 0-based position of the message in the file. */
  readonly index: number;
  /** Byte offset of the separator line in the file. */
  readonly offset: number;
}

/** Chunk size for reading mbox files, in bytes. */
export const MBOX_READ_CHUNK_BYTES = 1 << 20;

/**
 * Unescapes one body line: mboxrd writes ">From " with one more ">" for every line matching
 * /^>*From /, so one ">" is removed from such lines. On an mboxo file this also turns a line
 * that was ">From " in the original into "From " (mboxo is ambiguous; RFC 4155 appendix).
 */
function unescapeLine(line: Uint8Array): Uint8Array {
  let i = 0;
  while (i < line.length && line[i] === 0x3e) i++;
  if (i > 0 && line.length >= i + 5 && line[i] === 0x46 && line[i + 1] === 0x72 && line[i + 2] === 0x6f && line[i + 3] === 0x6d && line[i + 4] === 0x20) {
    return line.subarray(1);
  }
  return line;
}

function isFromLine(line: Uint8Array): boolean {
  return line.length >= 5 && line[0] === 0x46 && line[1] === 0x72 && line[2] === 0x6f && line[3] === 0x6d && line[4] === 0x20;
}

/**
 * Reads an mbox file message by message. A "From " line at the start of the file or after any
 * line starts a new message (the mboxo/mboxrd rule; the blank line before it, which the format
 * adds, is removed from the previous message). Text before the first "From " line is ignored.
 *
 * @param path  file path
 * @throws the fs error (ENOENT, EISDIR, …) when the file cannot be read
 */
export async function* readMbox(path: string): AsyncGenerator<MboxMessage> {
  const stream = createReadStream(path, { highWaterMark: MBOX_READ_CHUNK_BYTES });
  let carry: Buffer = Buffer.alloc(0);
  let parts: Uint8Array[] = [];
  let partsBytes = 0;
  let current: { envelope: string; offset: number } | null = null;
  let index = 0;
  let fileOffset = 0; // offset of carry[0] in the file

  const finish = (): MboxMessage | null => {
    if (!current) return null;
    const raw = Buffer.concat(parts, partsBytes);
    // The separator is preceded by an empty line that belongs to the format, not to the message.
    let end = raw.length;
    if (end >= 2 && raw[end - 1] === 0x0a && raw[end - 2] === 0x0a) end -= 1;
    else if (end >= 4 && raw[end - 1] === 0x0a && raw[end - 2] === 0x0d && raw[end - 3] === 0x0a && raw[end - 4] === 0x0d) end -= 2;
    const msg: MboxMessage = { raw: new Uint8Array(raw.buffer, raw.byteOffset, end), envelope: current.envelope, index: index++, offset: current.offset };
    parts = [];
    partsBytes = 0;
    return msg;
  };

  const handleLine = (line: Buffer, lineOffset: number): MboxMessage | null => {
    if (isFromLine(line)) {
      const done = finish();
      current = { envelope: line.toString('latin1', 5).replace(/\r?\n$/, ''), offset: lineOffset };
      return done;
    }
    if (current) {
      const l = unescapeLine(line);
      parts.push(l);
      partsBytes += l.length;
    }
    return null;
  };

  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const buf = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    let start = 0;
    for (let nl = buf.indexOf(0x0a, start); nl >= 0; nl = buf.indexOf(0x0a, start)) {
      const done = handleLine(buf.subarray(start, nl + 1), fileOffset + start);
      if (done) yield done;
      start = nl + 1;
    }
    // Copy the partial line so the chunk can be released.
    carry = Buffer.from(buf.subarray(start));
    fileOffset += start;
  }
  if (carry.length) {
    const done = handleLine(carry, fileOffset);
    if (done) yield done;
  }
  const last = finish();
  if (last) yield last;
}
