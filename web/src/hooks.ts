import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api, type Page } from './api/client.ts';
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
