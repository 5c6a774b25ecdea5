import type { LoadBalancerView } from "@nimbus/domain";

/**
 * Patches the cached `loadBalancers.list` with one pushed view: replaced in place, added in name
 * order when new, removed when `lb` is null. A list not loaded yet stays unloaded (the page's
 * first fetch reads it whole).
 */
export function applyLoadBalancer(list: LoadBalancerView[] | undefined, name: string, lb: LoadBalancerView | null): LoadBalancerView[] | undefined {
  if (!list) return list;
  const at = list.findIndex((l) => l.spec.name === name);
  if (lb === null) return at < 0 ? list : list.filter((_, i) => i !== at);
  if (at >= 0) return list.map((l, i) => (i === at ? lb : l));
  return [...list, lb].sort((a, b) => a.spec.name.localeCompare(b.spec.name));
}
