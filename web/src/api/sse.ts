// Server-Sent Events reassembly: the text of a `text/event-stream` body, in chunks cut
// anywhere (mid-line, mid-character is the decoder's business), back into events, by the
// WHATWG rules the edge writes to: `field: value` lines, a blank line ends an event, lines
// starting with `:` are comments (the edge's keep-alives), `data` lines join with "\n".

/** One event as it arrived: its name (`message` when none was given), id and data text. */
export interface RawEvent {
  event: string;
  id?: string;
  data: string;
}

/** Accumulates chunks of an event stream and hands back each event once it is complete. */
export class SSEParser {
  private buffer = "";
  private event = "";
  private id: string | undefined;
  private data: string[] = [];
  private sawCR = false;

  /** The events completed by this chunk, in order. */
  push(chunk: string): RawEvent[] {
    const events: RawEvent[] = [];
    let text = chunk;
    // A CR at the end of the previous chunk may be the first half of a CRLF.
    if (this.sawCR && text.startsWith("\n")) text = text.slice(1);
    this.sawCR = false;
    this.buffer += text;
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      if (!match) break;
      if (match[0] === "\r" && match.index === this.buffer.length - 1) {
        // Could be CRLF split across chunks: take the line, and drop a leading LF next time.
        this.sawCR = true;
      }
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const event = this.line(line);
      if (event) events.push(event);
    }
    return events;
  }

  /** At the end of the stream: an event that was never closed by a blank line is dropped, as the spec says. */
  end(): RawEvent[] {
    this.buffer = "";
    this.data = [];
    this.event = "";
    return [];
  }

  private line(line: string): RawEvent | undefined {
    if (line === "") {
      if (this.data.length === 0) {
        this.event = "";
        return undefined;
      }
      const event: RawEvent = { event: this.event || "message", data: this.data.join("\n") };
      if (this.id !== undefined) event.id = this.id;
      this.data = [];
      this.event = "";
      return event;
    }
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "event":
        this.event = value;
        break;
      case "data":
        this.data.push(value);
        break;
      case "id":
        // The last event id persists until changed, as in EventSource.
        if (!value.includes("\0")) this.id = value;
        break;
      default:
        break; // retry and unknown fields: ignored
    }
    return undefined;
  }
}
