import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api, type Page, type Query } from './api/client.ts';
import type { School } from './api/types.ts';

/** The value after it has stopped changing for `ms` (search boxes ask once typing pauses). */
export function useDebounced<T>(value: T, ms = 300): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

/** The organisation's schools (they change rarely). */
export function useSchools() {
  return useQuery({
    queryKey: ['schools'],
    queryFn: ({ signal }) => api.get<Page<School>>('/schools', undefined, signal),
    staleTime: 60_000,
  });
}

/**
 * A list the API pages by cursor, read a page at a time ("Show more"): the query, and every item
 * of the pages read so far.
 */
export function useCursorList<T>(
  queryKey: readonly unknown[],
  path: string,
  query: Query,
  limit: number,
) {
  const list = useInfiniteQuery({
    queryKey,
    queryFn: ({ pageParam, signal }) =>
      api.get<Page<T>>(path, { ...query, limit, cursor: pageParam }, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const items: T[] = list.data?.pages.flatMap((p) => p.items) ?? [];
  return { ...list, items };
}
