import { ProtocolError } from './errors.js';
import { ResponseReader } from './reader.js';
import { RequestWriter } from './writer.js';

/** Largest response frame accepted; group coordinator answers are far smaller. */
const MAX_FRAME_BYTES = 64 * 1024 * 1024;

export interface RequestHeader {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
  readonly clientId: string;
}

/**
 * One size-prefixed request: header v1 (api key, version, correlation id,
 * client id), which every non-flexible request version uses, then the body.
 */
export function encodeRequest(
  header: RequestHeader,
  writeBody: (writer: RequestWriter) => void,
): Buffer {
  const writer = new RequestWriter();
  writer
    .int32(0) // size, patched below
    .int16(header.apiKey)
    .int16(header.apiVersion)
    .int32(header.correlationId)
    .nullableString(header.clientId);
  writeBody(writer);
  writer.patchInt32(0, writer.length - 4);
  return writer.toBuffer();
}

/** A response frame: header v0 (correlation id only) and a reader positioned at the body. */
export interface ResponseFrame {
  readonly correlationId: number;
  readonly body: ResponseReader;
}

/** Cuts a TCP byte stream into size-prefixed response frames. */
export class FrameSplitter {
  #pending: Buffer = Buffer.alloc(0);

  /** Returns every frame completed by `chunk`; keeps the partial rest for the next call. */
  push(chunk: Buffer): ResponseFrame[] {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const frames: ResponseFrame[] = [];
    let offset = 0;
    while (this.#pending.length - offset >= 4) {
      const size = this.#pending.readInt32BE(offset);
      if (size < 4 || size > MAX_FRAME_BYTES) {
        throw new ProtocolError(`response frame size ${size} is out of range`);
      }
      if (this.#pending.length - offset - 4 < size) break;
      const frame = this.#pending.subarray(offset + 4, offset + 4 + size);
      frames.push({ correlationId: frame.readInt32BE(0), body: new ResponseReader(frame, 4) });
      offset += 4 + size;
    }
    this.#pending = this.#pending.subarray(offset);
    return frames;
  }
}
