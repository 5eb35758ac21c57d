/**
 * Bounds the cardinality of the `topic` label: the first `max` distinct topics
 * keep their names, every later one is counted as "other".
 */
export class TopicLabels {
  readonly #max: number;
  readonly #known = new Set<string>();

  constructor(max: number) {
    this.#max = max;
  }

  label(topic: string): string {
    if (this.#known.has(topic)) return topic;
    if (this.#known.size < this.#max) {
      this.#known.add(topic);
      return topic;
    }
    return 'other';
  }
}
