import { describe, expect, it } from 'vitest';
import { TopicLabels } from '../../../gateway/src/observability/topic-labels.js';

describe('TopicLabels', () => {
  it('keeps the first N topics and folds the rest into "other", even over 10,000 topics', () => {
    const labels = new TopicLabels(100);
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i += 1) seen.add(labels.label(`topic-${i}`));
    expect(seen.size).toBe(101);
    expect(seen.has('other')).toBe(true);
    expect(labels.label('topic-5')).toBe('topic-5');
    expect(labels.label('topic-500')).toBe('other');
  });
});
