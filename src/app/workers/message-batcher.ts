/**
 * Collects the items queued during one turn of the event loop and passes them on together. Every IPC message is a
 * write to the channel's pipe and a wake-up of the process at the other end; under load a group commit settles many
 * calls at once, and one message carrying them all costs the two processes a fraction of as many.
 */
export class MessageBatcher<Item> {
  private items: Item[] = [];
  private scheduled = false;

  constructor(private readonly flush: (items: Item[]) => void) {}

  push(item: Item): void {
    this.items.push(item);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      const items = this.items;
      this.items = [];
      this.scheduled = false;
      this.flush(items);
    });
  }
}
