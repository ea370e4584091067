// Letters that Unicode does not decompose into a base letter and an accent.
const LETTERS: Record<string, string> = {
  ø: 'o',
  æ: 'ae',
  œ: 'oe',
  ß: 'ss',
  ł: 'l',
  đ: 'd',
  ð: 'd',
  þ: 'th',
  ı: 'i',
};

/** The sort and search key of a name: lower case, accents removed, single spaces. */
export function nameKey(name: string): string {
  return name
    .toLowerCase()
    .replace(/[øæœßłđðþı]/g, (c) => LETTERS[c] ?? c)
    .normalize('NFD')
    .replace(/\p{Diacritic}/gu, '')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

/** Key stage from year group (England): nursery and reception are 0 (EYFS). */
export function keyStageOf(yearGroup: number | null): number | null {
  if (yearGroup === null) return null;
  if (yearGroup <= 0) return 0;
  if (yearGroup <= 2) return 1;
  if (yearGroup <= 6) return 2;
  if (yearGroup <= 9) return 3;
  if (yearGroup <= 11) return 4;
  return 5;
}

/** The words a student is found by: each word of their names, and their UPN. */
export function nameTokens(student: {
  given_key: string;
  family_key: string;
  preferred_key: string | null;
  upn: string | null;
}): string[] {
  const words = [student.given_key, student.family_key, student.preferred_key ?? '']
    .join(' ')
    .split(/[\s'’-]+/)
    .filter(Boolean);
  if (student.upn) words.push(student.upn.toLowerCase());
  return [...new Set(words)];
}

/**
 * A student's search words as one text, each after a space (`students.search_words`): a word
 * starts with `w` exactly when the text holds ` w`, as words hold no spaces.
 */
export function searchWords(student: Parameters<typeof nameTokens>[0]): string {
  return nameTokens(student)
    .map((word) => ` ${word}`)
    .join('');
}

/** The words of a search, folded the same way; at most five. */
export function searchTokens(q: string | undefined): string[] {
  if (!q) return [];
  return [
    ...new Set(
      nameKey(q)
        .split(/[\s'’-]+/)
        .filter(Boolean),
    ),
  ].slice(0, 5);
}
