import type { SectionName } from "@nimbus/domain";

/** What can change on one host: a section, or whether its SSH endpoint should answer. */
export type Topic = SectionName | "reachability";
type Listener = () => void;

/**
 * Change notifications keyed by host, then topic. With 2,000 hosts a single emitter that every
 * driver filters would call 2,000 listeners per change; here an emit reaches only the listeners
 * of that host and topic.
 */
export class HostEvents {
  private readonly byHost = new Map<string, Map<Topic, Set<Listener>>>();

  on(host: string, topic: Topic, listener: Listener): () => void {
    let topics = this.byHost.get(host);
    if (!topics) this.byHost.set(host, (topics = new Map()));
    let set = topics.get(topic);
    if (!set) topics.set(topic, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) topics.delete(topic);
      if (topics.size === 0) this.byHost.delete(host);
    };
  }

  emit(host: string, ...topics: Topic[]): void {
    const byTopic = this.byHost.get(host);
    if (!byTopic) return;
    for (const topic of topics) for (const l of [...(byTopic.get(topic) ?? [])]) l();
  }

  listenerCount(host: string): number {
    let n = 0;
    for (const set of this.byHost.get(host)?.values() ?? []) n += set.size;
    return n;
  }
}
