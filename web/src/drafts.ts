/**
 * Unsent concerns kept on the device (see "Log a concern"). An account of a child is sensitive,
 * and school computers are shared: drafts are per user, last a day, and signing out removes
 * every one on the device.
 */

const PREFIX = 'haven:concern-draft:';
export const DRAFT_LIFETIME_MS = 24 * 60 * 60 * 1000;

export function concernDraftKey(userId: string): string {
  return `${PREFIX}${userId}`;
}

/** A stored draft younger than a day; an older one is removed and not offered. */
export function readStoredDraft(key: string): unknown {
  try {
    const text = localStorage.getItem(key);
    if (!text) return null;
    const draft = JSON.parse(text) as { savedAt?: string };
    const savedAt = draft.savedAt ? Date.parse(draft.savedAt) : Number.NaN;
    if (!(Date.now() - savedAt < DRAFT_LIFETIME_MS)) {
      localStorage.removeItem(key);
      return null;
    }
    return draft;
  } catch {
    return null;
  }
}

/** Removes every concern draft on this device (at sign-out). */
export function clearConcernDrafts(): void {
  try {
    for (let i = localStorage.length - 1; i >= 0; i -= 1) {
      const key = localStorage.key(i);
      if (key?.startsWith(PREFIX)) localStorage.removeItem(key);
    }
  } catch {
    // Storage refused (private browsing): there is nothing stored to remove.
  }
}
