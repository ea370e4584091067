import type { Answer, Item } from '../api/answers.ts';

/** The answers of `/api/v1/access-reviews` (src/modules/access-reviews/routes.ts), as generated. */

export type AccessReviewSummary = Item<'/api/v1/access-reviews'>;

export type AccessReview = Answer<'/api/v1/access-reviews/{id}', 'get'>;

export type AccessReviewItem = Answer<'/api/v1/access-reviews/{id}/items/{itemId}', 'get'>;

export type NamedScope = AccessReviewSummary['scope'];

export type Person = NonNullable<AccessReviewSummary['createdBy']>;

/** A decision on one item of a review, as the review lists it. */
export type Decision = NonNullable<AccessReview['items'][number]['decision']>;

export type ReviewOutcome = Decision['outcome'];

export type ItemStatus = AccessReviewItem['status'];

/** A change made to the group since the review began (or during it). */
export type ReviewChange = AccessReviewItem['changes'][number];

export type ReviewLink = NonNullable<ReviewChange['link']>;
