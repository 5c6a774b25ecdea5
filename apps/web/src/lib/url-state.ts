"use client";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useCallback } from "react";

/**
 * A filter or search term that lives in the URL, so a filtered view can be shared and survives a
 * reload. Empty values are removed from the URL instead of stored as "".
 */
export function useUrlParam(name: string): [string, (value: string) => void] {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const value = params.get(name) ?? "";
  const set = useCallback(
    (next: string) => {
      const copy = new URLSearchParams(params.toString());
      if (next) copy.set(name, next);
      else copy.delete(name);
      const query = copy.toString();
      router.replace(query ? `${pathname}?${query}` : pathname, { scroll: false });
    },
    [params, router, pathname, name],
  );
  return [value, set];
}
